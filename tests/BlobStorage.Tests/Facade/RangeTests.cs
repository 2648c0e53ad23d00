using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions.Execution;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class RangeTests
{
    private const int Chunk = TestStore.ChunkSize;
    private const int Size = 3 * Chunk + 100;
    private static readonly byte[] Content = Streams.Bytes(Size, seed: 31);

    private static async Task<TestStore> OpenWithBlobAsync()
    {
        var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", Content);
        await t.Store.UploadBytesAsync("data", "empty", []);
        return t;
    }

    private static readonly (string Label, long Offset, long Length)[] OffsetAndLength =
    [
        ("first byte", 0, 1),
        ("inside the first chunk", 10, 100),
        ("inside a middle chunk", Chunk + 5, 1000),
        ("across one chunk boundary", Chunk - 10, 20),
        ("across two chunk boundaries", Chunk - 5, (2 * Chunk) + 10),
        ("exactly the second chunk", Chunk, Chunk),
        ("exactly the last short chunk", 3 * Chunk, 100),
        ("last byte", Size - 1, 1),
        ("everything", 0, Size),
    ];

    [Test]
    public async Task Offset_and_length_read_exactly_those_bytes()
    {
        await using var t = await OpenWithBlobAsync();

        using var scope = new AssertionScope();
        foreach (var (label, offset, length) in OffsetAndLength)
        {
            await using var download = await t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(offset, length)));
            download.Offset.Should().Be(offset, label);
            download.Length.Should().Be(length, label);
            download.Content.Length.Should().Be(length, label);
            download.Properties.Size.Should().Be(Size, "the properties describe the whole blob");
            (await Streams.ReadAllAsync(download.Content)).Should().Equal(Content.AsSpan((int)offset, (int)length).ToArray(), label);
        }
    }

    [Test]
    public async Task Offset_without_length_reads_to_the_end()
    {
        await using var t = await OpenWithBlobAsync();

        using var scope = new AssertionScope();
        foreach (var offset in new[] { 0, 1, Chunk, Chunk + 7, Size - 1 })
        {
            await using var download = await t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(offset)));
            download.Offset.Should().Be(offset);
            download.Length.Should().Be(Size - offset, "offset {0}", offset);
            (await Streams.ReadAllAsync(download.Content)).Should().Equal(Content.AsSpan(offset).ToArray(), "offset {0}", offset);
        }
    }

    [Test]
    public async Task Length_past_the_end_is_cut_at_the_end()
    {
        await using var t = await OpenWithBlobAsync();

        await using var download = await t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(Size - 10, 1000)));

        download.Offset.Should().Be(Size - 10);
        download.Length.Should().Be(10);
        (await Streams.ReadAllAsync(download.Content)).Should().Equal(Content.AsSpan(Size - 10).ToArray());
    }

    [Test]
    public async Task Last_n_bytes()
    {
        await using var t = await OpenWithBlobAsync();

        using var scope = new AssertionScope();
        foreach (var n in new[] { 1, 100, 101, Chunk + 100, Size - 1, Size })
        {
            await using var download = await t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(BlobRange.Last(n)));
            download.Offset.Should().Be(Size - n, "last {0}", n);
            download.Length.Should().Be(n, "last {0}", n);
            (await Streams.ReadAllAsync(download.Content)).Should().Equal(Content.AsSpan(Size - n).ToArray(), "last {0}", n);
        }
    }

    [Test]
    public async Task Last_n_bytes_of_a_shorter_blob_is_the_whole_blob()
    {
        await using var t = await OpenWithBlobAsync();

        using var scope = new AssertionScope();
        foreach (var n in new long[] { Size + 1, int.MaxValue, long.MaxValue })
        {
            await using var download = await t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(BlobRange.Last(n)));
            download.Offset.Should().Be(0, "last {0}", n);
            download.Length.Should().Be(Size, "last {0}", n);
            (await Streams.ReadAllAsync(download.Content)).Should().Equal(Content, "last {0}", n);
        }
    }

    [Test]
    public async Task Offset_at_or_after_the_end_throws_InvalidRange()
    {
        await using var t = await OpenWithBlobAsync();

        foreach (var offset in new[] { Size, Size + 1L, long.MaxValue })
        {
            var thrown = await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(offset, 1))))
                .Should().ThrowAsync<InvalidRangeException>("offset {0}", offset);
            thrown.Which.ErrorCode.Should().Be(BlobErrorCode.InvalidRange);
            await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(offset))))
                .Should().ThrowAsync<InvalidRangeException>("offset {0}", offset);
            await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(offset, long.MaxValue))))
                .Should().ThrowAsync<InvalidRangeException>("offset {0}", offset);
        }

        (await t.Store.GetStatisticsAsync()).ReadOperations.Should().Be(0, "a refused range is not a read");
    }

    [Test]
    public async Task Huge_lengths_do_not_overflow()
    {
        await using var t = await OpenWithBlobAsync();

        await using var download = await t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(Size - 3, long.MaxValue)));

        download.Length.Should().Be(3);
        (await Streams.ReadAllAsync(download.Content)).Should().Equal(Content.AsSpan(Size - 3).ToArray());
    }

    [Test]
    public async Task Any_range_on_an_empty_blob_throws_InvalidRange()
    {
        await using var t = await OpenWithBlobAsync();

        foreach (var range in new[] { new BlobRange(0), new BlobRange(0, 1), new BlobRange(5, 5), BlobRange.Last(1), BlobRange.Last(100) })
        {
            await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "empty", FacadeTestKit.Range(range)))
                .Should().ThrowAsync<InvalidRangeException>($"range {range} of an empty blob");
        }

        (await t.Store.DownloadBytesAsync("data", "empty")).Should().BeEmpty("an empty blob reads whole without a range");
    }

    [Test]
    public void Negative_offset_and_non_positive_lengths_are_rejected_by_the_constructor()
    {
        FluentActions.Invoking(() => new BlobRange(-1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new BlobRange(-1, 10)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new BlobRange(0, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("length");
        FluentActions.Invoking(() => new BlobRange(0, -5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("length");
        FluentActions.Invoking(() => BlobRange.Last(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => BlobRange.Last(-1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Test]
    public void A_range_describes_itself()
    {
        var range = new BlobRange(5, 10);
        range.Offset.Should().Be(5);
        range.Length.Should().Be(10);
        range.IsSuffix.Should().BeFalse();
        new BlobRange(5).Length.Should().BeNull();

        var last = BlobRange.Last(7);
        last.IsSuffix.Should().BeTrue();
        last.Length.Should().Be(7);
    }

    [Test]
    public async Task Range_reads_count_the_bytes_of_the_range()
    {
        await using var t = await OpenWithBlobAsync();

        await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.Range(new BlobRange(10, 100)));
        await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.Range(BlobRange.Last(50)));

        var stats = await t.Store.GetStatisticsAsync();
        stats.ReadOperations.Should().Be(2);
        stats.BytesRead.Should().Be(150);
    }

    [Test]
    public async Task Range_with_conditions_checks_the_conditions_first()
    {
        await using var t = await OpenWithBlobAsync();
        var etag = (await t.Store.GetPropertiesAsync("data", "blob")).ETag;

        var options = new BlobDownloadOptions { Range = new BlobRange(Chunk - 1, 2), Conditions = new BlobRequestConditions { IfMatch = etag } };
        (await t.Store.DownloadBytesAsync("data", "blob", options)).Should().Equal(Content.AsSpan(Chunk - 1, 2).ToArray());

        var stale = new BlobDownloadOptions { Range = new BlobRange(Size + 5, 2), Conditions = new BlobRequestConditions { IfMatch = "\"0xstale\"" } };
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", stale)).Should().ThrowAsync<PreconditionFailedException>();
    }
}
