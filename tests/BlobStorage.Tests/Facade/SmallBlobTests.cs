using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Tests.Facade;

/// <summary>Small blobs, kept inside the metadata store instead of chunk files (InlineThreshold, 64 KiB by default).</summary>
[Parallelizable(ParallelScope.All)]
public class SmallBlobTests
{
    private const int Chunk = TestStore.ChunkSize;

    [Test]
    public async Task A_small_blob_round_trips_without_a_chunk_file()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(1000, seed: 1);

        var uploaded = await t.Store.UploadBytesAsync("data", "small", content, new BlobUploadOptions { ContentType = "text/plain", Tags = FacadeTestKit.Map(("k", "v")) });

        uploaded.ContentHash.Should().Be(Streams.Sha256(content));
        uploaded.Size.Should().Be(1000);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
        (await t.Store.DownloadBytesAsync("data", "small")).Should().Equal(content);
        (await t.Store.DownloadBytesAsync("data", "small", FacadeTestKit.Range(new BlobRange(10, 20)))).Should().Equal(content.AsSpan(10, 20).ToArray());
        (await t.Store.DownloadBytesAsync("data", "small", FacadeTestKit.Range(BlobRange.Last(5)))).Should().Equal(content.AsSpan(995).ToArray());
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "small", FacadeTestKit.Range(new BlobRange(1000)))).Should().ThrowAsync<InvalidRangeException>();
        await using (var download = await t.Store.DownloadAsync("data", "small", FacadeTestKit.Range(new BlobRange(100, 50))))
        {
            download.Offset.Should().Be(100);
            download.Length.Should().Be(50);
            download.Content.Length.Should().Be(50);
        }

        var stats = await t.Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(1000);
        stats.ChunkCount.Should().Be(0);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();

        await t.ReopenAsync();
        (await t.Store.DownloadBytesAsync("data", "small")).Should().Equal(content);
        (await t.Store.GetPropertiesAsync("data", "small")).Should().BeEquivalentTo(uploaded, o => o.Excluding(p => p.AccessCount).Excluding(p => p.LastAccessedOn));
    }

    [Test]
    public async Task A_small_blobs_download_stream_seeks_and_refuses_to_read_once_disposed()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(5000, seed: 2);
        var uploaded = await t.Store.UploadBytesAsync("data", "small", content);

        var download = await t.Store.DownloadAsync("data", "small");
        download.Content.Should().BeOfType<PooledContentStream>("the default store lends a small blob's content from the shared pool");
        download.Content.CanSeek.Should().BeTrue();
        download.Content.Seek(-10, SeekOrigin.End);
        var tail = new byte[10];
        (await download.Content.ReadAsync(tail)).Should().Be(10);
        tail.Should().Equal(content.AsSpan(4990).ToArray());
        await download.DisposeAsync();
        await download.DisposeAsync();

        await FluentActions.Awaiting(async () => await download.Content.ReadAsync(new byte[1])).Should().ThrowAsync<ObjectDisposedException>();
        download.Content.CanRead.Should().BeFalse();

        // Refused downloads hand their content back too; the reads after them still get their own bytes.
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "small", new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = "\"other\"" } }))
            .Should().ThrowAsync<PreconditionFailedException>();
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "small", FacadeTestKit.Range(new BlobRange(5000))))
            .Should().ThrowAsync<InvalidRangeException>();
        var reads = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => t.Store.DownloadBytesAsync("data", "small"))));
        reads.Should().AllSatisfy(read => read.Should().Equal(content));
        (await t.Store.GetPropertiesAsync("data", "small")).ETag.Should().Be(uploaded.ETag);
    }

    [Test]
    public async Task A_copy_of_a_small_blob_shares_its_content()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(2000, seed: 2);
        await t.Store.UploadBytesAsync("data", "source", content);

        await t.Store.CopyAsync("data", "source", "data", "copy");
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(2000, "a copy shares the content it copies");

        await t.Store.DeleteAsync("data", "source");
        (await t.Store.DownloadBytesAsync("data", "copy")).Should().Equal(content);
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(2000);

        await t.Store.DeleteAsync("data", "copy");
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(0);
    }

    [Test]
    public async Task Overwrites_between_small_and_large_keep_the_totals_right()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var small = Streams.Bytes(300, seed: 3);
        var large = Streams.Bytes((2 * Chunk) + 1, seed: 4);

        await t.Store.UploadBytesAsync("data", "blob", small);
        await t.Store.UploadBytesAsync("data", "blob", large);
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(large.Length);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(large);

        await t.Store.UploadBytesAsync("data", "blob", small);
        var stats = await t.Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(small.Length);
        stats.TotalBytes.Should().Be(small.Length);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(small);

        t.Time.Advance(TimeSpan.FromMinutes(15));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(3);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Deleting_a_container_releases_its_small_blobs()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        for (var i = 0; i < 5; i++) await t.Store.UploadBytesAsync("data", $"s{i}", Streams.Bytes(100 * (i + 1), seed: i));
        await t.Store.CopyAsync("data", "s0", "data", "s0-copy");

        await t.Store.DeleteContainerAsync("data", deleteContents: true);

        var stats = await t.Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(0);
        stats.TotalBlobs.Should().Be(0);
        stats.DeleteOperations.Should().Be(6);
    }

    [Test]
    public async Task An_inline_threshold_of_zero_stores_every_blob_as_chunks()
    {
        await using var t = await TestStore.OpenAsync(o => o.InlineThreshold = 0);
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(100, seed: 5);

        await t.Store.UploadBytesAsync("data", "small", content);

        FacadeTestKit.ChunkFiles(t.RootPath).Should().Equal(FacadeTestKit.ChunkPath(t.RootPath, Streams.Sha256(content)));
        (await t.Store.DownloadBytesAsync("data", "small")).Should().Equal(content);
    }

    [Test]
    public async Task Blobs_up_to_the_threshold_are_inline_and_one_byte_more_is_not()
    {
        await using var t = await TestStore.OpenAsync(o =>
        {
            o.ChunkSize = 2 * Chunk;
            o.InlineThreshold = 1000;
        });
        await t.Store.CreateContainerAsync("data");

        await t.Store.UploadBytesAsync("data", "at", Streams.Bytes(1000, seed: 6));
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty("1000 bytes is up to the threshold");

        await t.Store.UploadBytesAsync("data", "over", Streams.Bytes(1001, seed: 7));
        FacadeTestKit.ChunkFiles(t.RootPath).Should().ContainSingle("1001 bytes is over it");
    }

    [Test]
    public async Task A_threshold_equal_to_the_chunk_size_keeps_a_blob_of_exactly_that_size_inline()
    {
        // InlineThreshold is documented as "blobs up to this many bytes"; the largest value it accepts is ChunkSize.
        await using var t = await TestStore.OpenAsync(o => o.InlineThreshold = TestStore.ChunkSize);
        await t.Store.CreateContainerAsync("data");

        await t.Store.UploadBytesAsync("data", "exact", Streams.Bytes(TestStore.ChunkSize, seed: 8));

        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty($"a blob of {TestStore.ChunkSize} bytes is up to the threshold of {TestStore.ChunkSize}");
    }

    [Test]
    public async Task Corrupted_inline_content_is_never_returned_and_the_blob_can_still_be_replaced_or_deleted()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", Streams.Bytes(500, seed: 9));
        await t.Store.UploadBytesAsync("data", "b", Streams.Bytes(600, seed: 10));
        await t.Store.DisposeAsync();
        await CorruptInlineContentAsync(t.RootPath);
        await t.ReopenAsync();

        var thrown = await FluentActions.Awaiting(() => t.Store.DownloadBytesAsync("data", "a")).Should().ThrowAsync<DataCorruptionException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.DataCorruption);
        await FluentActions.Awaiting(() => t.Store.DownloadBytesAsync("data", "b", FacadeTestKit.Range(new BlobRange(0, 1)))).Should().ThrowAsync<DataCorruptionException>();

        var replacement = Streams.Bytes(700, seed: 11);
        await t.Store.UploadBytesAsync("data", "a", replacement);
        (await t.Store.DownloadBytesAsync("data", "a")).Should().Equal(replacement);
        await t.Store.DeleteAsync("data", "b");
        (await t.Store.AllNamesAsync("data")).Should().Equal("a");
    }

    [Test]
    public async Task A_content_check_reports_corrupted_inline_content()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", Streams.Bytes(500, seed: 12));
        await t.Store.DisposeAsync();
        await CorruptInlineContentAsync(t.RootPath);
        await t.ReopenAsync();
        await FluentActions.Awaiting(() => t.Store.DownloadBytesAsync("data", "a")).Should().ThrowAsync<DataCorruptionException>();

        var report = await t.Store.VerifyAsync(verifyContent: true);

        report.IsClean.Should().BeFalse("a scrub must find content that fails its checksum, wherever it is kept");
        report.MissingChunks.Should().Contain(m => m.Container == "data" && m.Name == "a");
    }

    /// <summary>Flips a byte in the middle of every small blob's content, behind the store's back (the store must be closed).</summary>
    private static async Task CorruptInlineContentAsync(string rootPath)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(rootPath, "metadata.db")};Pooling=False");
        await connection.OpenAsync();
        var rows = new List<(long Id, byte[] Data)>();
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT id, data FROM inline_content;";
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0), (byte[])reader[1]));
        }

        rows.Should().NotBeEmpty("the blobs were small enough to be kept inline");
        foreach (var (id, data) in rows)
        {
            data[data.Length / 2] ^= 0x5A;
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE inline_content SET data = @data WHERE id = @id;";
            update.Parameters.AddWithValue("@data", data);
            update.Parameters.AddWithValue("@id", id);
            await update.ExecuteNonQueryAsync();
        }
    }
}
