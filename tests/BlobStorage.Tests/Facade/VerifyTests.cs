using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class VerifyTests
{
    private const int Chunk = TestStore.ChunkSize;
    private const int HeaderSize = 32;

    [Test]
    public async Task A_healthy_store_verifies_clean()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("one");
        await t.Store.CreateContainerAsync("two");
        await t.Store.UploadBytesAsync("one", "a", Streams.Bytes(2 * Chunk + 1, seed: 1));
        await t.Store.UploadBytesAsync("one", "b", Streams.Bytes(Chunk, seed: 2));
        await t.Store.UploadBytesAsync("two", "c", Streams.Bytes(Chunk, seed: 2));
        await t.Store.UploadBytesAsync("two", "small", Streams.Bytes(10, seed: 3));
        await t.Store.UploadBytesAsync("two", "empty", []);

        foreach (var content in new[] { false, true })
        {
            var report = await t.Store.VerifyAsync(verifyContent: content);
            report.IsClean.Should().BeTrue();
            report.MissingChunks.Should().BeEmpty();
            report.UnreferencedChunks.Should().BeEmpty();
            report.ReferenceCountMismatches.Should().BeEmpty();
            report.BlobsChecked.Should().Be(5);
            report.ChunksChecked.Should().Be(4);
            report.ChunksAwaitingCollection.Should().Be(0);
        }
    }

    [Test]
    public async Task An_empty_store_verifies_clean()
    {
        await using var t = await TestStore.OpenAsync();
        var report = await t.Store.VerifyAsync(verifyContent: true);
        report.IsClean.Should().BeTrue();
        report.BlobsChecked.Should().Be(0);
        report.ChunksChecked.Should().Be(0);
    }

    [Test]
    public async Task A_deleted_chunk_file_is_reported_missing_and_its_blob_fails_to_read()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(3 * Chunk, seed: 3);
        await t.Store.UploadBytesAsync("data", "blob", content);
        var secondChunk = ChunkNames.Of(content, Chunk)[1].Id.ToString();
        File.Delete(FacadeTestKit.ChunkPath(t.RootPath, secondChunk));

        var report = await t.Store.VerifyAsync();

        report.IsClean.Should().BeFalse();
        var missing = report.MissingChunks.Should().ContainSingle().Subject;
        missing.Container.Should().Be("data");
        missing.Name.Should().Be("blob");
        missing.Chunk.ToString().Should().Be(secondChunk);
        missing.Reason.Should().NotBeNullOrEmpty();
        report.UnreferencedChunks.Should().BeEmpty();

        await using var download = await t.Store.DownloadAsync("data", "blob");
        var (read, error) = await FacadeTestKit.ReadUntilFailureAsync(download.Content);
        error.Should().BeOfType<DataCorruptionException>();
        ((DataCorruptionException)error!).ErrorCode.Should().Be(BlobErrorCode.DataCorruption);
        read.Length.Should().BeLessThanOrEqualTo(Chunk);
        read.Should().Equal(content.AsSpan(0, read.Length).ToArray(), "whatever came before the failure is right");
    }

    [Test]
    public async Task A_flipped_byte_is_never_returned_and_a_content_check_reports_it()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(3 * Chunk + 50, seed: 4);
        await t.Store.UploadBytesAsync("data", "blob", content);
        var secondChunk = ChunkNames.Of(content, Chunk)[1].Id.ToString();
        var path = FacadeTestKit.ChunkPath(t.RootPath, secondChunk);
        await FlipByteAsync(path, HeaderSize + 1000);

        await using (var download = await t.Store.DownloadAsync("data", "blob"))
        {
            var (read, error) = await FacadeTestKit.ReadUntilFailureAsync(download.Content);
            error.Should().BeOfType<DataCorruptionException>();
            read.Length.Should().BeLessThanOrEqualTo(Chunk, "nothing of the corrupt chunk or after it is returned");
            read.Should().Equal(content.AsSpan(0, read.Length).ToArray());
        }

        // A range inside the bad chunk fails; a range inside good chunks reads.
        await FluentActions.Awaiting(() => t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.Range(new BlobRange(Chunk + 2000, 10))))
            .Should().ThrowAsync<DataCorruptionException>();
        (await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.Range(new BlobRange(2 * Chunk, 100))))
            .Should().Equal(content.AsSpan(2 * Chunk, 100).ToArray());

        var quick = await t.Store.VerifyAsync();
        quick.MissingChunks.Should().BeEmpty("without a content check only existence is checked");

        var thorough = await t.Store.VerifyAsync(verifyContent: true);
        thorough.IsClean.Should().BeFalse();
        var bad = thorough.MissingChunks.Should().ContainSingle().Subject;
        bad.Chunk.ToString().Should().Be(secondChunk);
        bad.Name.Should().Be("blob");
    }

    [Test]
    public async Task A_corrupt_single_chunk_blob_fails_on_read_with_nothing_returned()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(Chunk, seed: 5);
        await t.Store.UploadBytesAsync("data", "blob", content);
        await FlipByteAsync(FacadeTestKit.ChunkPath(t.RootPath, ChunkNames.Of(content, Chunk)[0].Id.ToString()), HeaderSize + content.Length - 1);

        await using var download = await t.Store.DownloadAsync("data", "blob");
        var (read, error) = await FacadeTestKit.ReadUntilFailureAsync(download.Content);

        error.Should().BeOfType<DataCorruptionException>();
        read.Should().BeEmpty();
        await FluentActions.Awaiting(() => t.Store.DownloadBytesAsync("data", "blob")).Should().ThrowAsync<DataCorruptionException>();
    }

    [Test]
    public async Task A_truncated_chunk_file_fails_on_read()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(Chunk, seed: 6);
        await t.Store.UploadBytesAsync("data", "blob", content);
        var path = FacadeTestKit.ChunkPath(t.RootPath, ChunkNames.Of(content, Chunk)[0].Id.ToString());
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write)) file.SetLength(HeaderSize + 100);

        await FluentActions.Awaiting(() => t.Store.DownloadBytesAsync("data", "blob")).Should().ThrowAsync<DataCorruptionException>();
        (await t.Store.VerifyAsync(verifyContent: true)).MissingChunks.Should().ContainSingle();
    }

    [Test]
    public async Task A_stray_chunk_file_is_reported_unreferenced_and_removed_by_recovery_at_open()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(100, seed: 7));
        var strayId = Streams.Sha256([1, 2, 3, 4]);
        var strayPath = FacadeTestKit.ChunkPath(t.RootPath, strayId);
        await File.WriteAllBytesAsync(strayPath, Streams.Bytes(200, seed: 8));

        // Just written, it may be a commit on its way: not a problem yet, and no open removes it.
        var young = await t.Store.VerifyAsync();
        young.IsClean.Should().BeTrue();
        young.OrphansWithinGracePeriod.Should().Be(1);
        await t.ReopenAsync();
        File.Exists(strayPath).Should().BeTrue("a chunk file younger than the grace period is never deleted");

        FileClock.SetWrittenAt(strayPath, t.Time.GetUtcNow() - TimeSpan.FromMinutes(16));
        var report = await t.Store.VerifyAsync();
        report.IsClean.Should().BeFalse();
        report.UnreferencedChunks.Select(c => c.ToString()).Should().Equal(strayId);
        report.MissingChunks.Should().BeEmpty();

        await t.ReopenAsync();

        File.Exists(strayPath).Should().BeFalse("recovery at open removes chunk files no row refers to");
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(Streams.Bytes(100, seed: 7));
    }

    [Test]
    public async Task Files_that_are_not_chunks_are_left_alone()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1]);
        var strayId = Streams.Sha256([9]);
        var wrongShard = Path.Combine(t.RootPath, "chunks", strayId[..2] == "00" ? "01" : "00", strayId);
        var notHex = Path.Combine(t.RootPath, "chunks", "ab", "readme.txt");
        await File.WriteAllTextAsync(wrongShard, "x");
        await File.WriteAllTextAsync(notHex, "x");

        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
        await t.ReopenAsync();

        File.Exists(notHex).Should().BeTrue();
        File.Exists(wrongShard).Should().BeTrue();
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Temporary_files_left_by_a_crash_are_removed_at_open()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1]);
        var temp = Path.Combine(t.RootPath, "chunks", ".tmp", Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(temp, Streams.Bytes(1000));

        await t.ReopenAsync();

        File.Exists(temp).Should().BeFalse();
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    private static async Task FlipByteAsync(string path, long position)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = position;
        var b = file.ReadByte();
        file.Position = position;
        file.WriteByte((byte)(b ^ 0x5A));
    }
}
