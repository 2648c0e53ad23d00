using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class GarbageCollectionTests
{
    private const int Chunk = TestStore.ChunkSize;
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(15);

    [Test]
    public async Task Nothing_is_collected_before_the_grace_period_ends()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var old = Streams.Bytes(3 * Chunk, seed: 1);
        await t.Store.UploadBytesAsync("data", "blob", old);
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(Chunk, seed: 2));

        var report = await t.Store.RunMaintenanceAsync();
        report.ChunksCollected.Should().Be(0);
        report.BytesReclaimed.Should().Be(0);

        t.Time.Advance(Grace - TimeSpan.FromTicks(1));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(0, "one tick short of the grace period");

        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount(4);
        var verify = await t.Store.VerifyAsync();
        verify.IsClean.Should().BeTrue();
        verify.ChunksAwaitingCollection.Should().Be(3);
    }

    [Test]
    public async Task After_the_grace_period_the_old_chunks_are_collected()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var old = Streams.Bytes(3 * Chunk + 10, seed: 1);
        var current = Streams.Bytes(Chunk, seed: 2);
        await t.Store.UploadBytesAsync("data", "blob", old);
        await t.Store.UploadBytesAsync("data", "blob", current);

        t.Time.Advance(Grace);
        var report = await t.Store.RunMaintenanceAsync();

        report.ChunksCollected.Should().Be(4);
        report.BytesReclaimed.Should().Be(old.Length);
        var verify = await t.Store.VerifyAsync(verifyContent: true);
        verify.IsClean.Should().BeTrue();
        verify.ChunksAwaitingCollection.Should().Be(0);
        verify.ChunksChecked.Should().Be(1);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().Equal(FacadeTestKit.ChunkPath(t.RootPath, ChunkNames.Of(current, Chunk)[0].Id.ToString()));
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(current);
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(0, "a chunk is collected once");
    }

    [Test]
    public async Task Deleted_blobs_are_collected_and_the_grace_period_survives_a_reopen()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(2 * Chunk, seed: 3);
        await t.Store.UploadBytesAsync("data", "blob", content);
        await t.Store.DeleteAsync("data", "blob");
        t.Time.Advance(TimeSpan.FromMinutes(10));

        await t.ReopenAsync();
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(0, "the chunks have waited 10 of 15 minutes");
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount(2, "recovery at open keeps chunks that still have a row");

        t.Time.Advance(TimeSpan.FromMinutes(5));
        var report = await t.Store.RunMaintenanceAsync();
        report.ChunksCollected.Should().Be(2);
        report.BytesReclaimed.Should().Be(content.Length);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task A_shorter_grace_period_collects_sooner()
    {
        await using var t = await TestStore.OpenAsync(o => o.GarbageCollectionGracePeriod = TimeSpan.Zero);
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(Chunk + 1, seed: 4));
        await t.Store.DeleteAsync("data", "blob");

        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(2);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
    }

    [Test]
    public async Task A_download_opened_before_an_overwrite_reads_the_original_bytes_after_collection()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var original = Streams.Bytes(6 * Chunk + 123, seed: 5);
        await t.Store.UploadBytesAsync("data", "blob", original);

        await using var download = await t.Store.DownloadAsync("data", "blob");
        var head = new byte[100];
        await download.Content.ReadExactlyAsync(head);

        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(50, seed: 6));
        t.Time.Advance(Grace + TimeSpan.FromMinutes(1));
        var report = await t.Store.RunMaintenanceAsync();

        report.ChunksCollected.Should().Be(0, "every chunk of the version being read is pinned while its stream is open");
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
        var rest = await Streams.ReadAllAsync(download.Content);
        head.Concat(rest).Should().Equal(original);
    }

    [Test]
    public async Task A_download_opened_before_a_delete_reads_the_original_bytes_after_collection()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var original = Streams.Bytes(4 * Chunk + 7, seed: 7);
        await t.Store.UploadBytesAsync("data", "blob", original);

        await using var download = await t.Store.DownloadAsync("data", "blob", FacadeTestKit.Range(new BlobRange(Chunk - 3)));
        await t.Store.DeleteAsync("data", "blob");
        t.Time.Advance(TimeSpan.FromHours(2));
        await t.Store.RunMaintenanceAsync();

        (await Streams.ReadAllAsync(download.Content)).Should().Equal(original.AsSpan(Chunk - 3).ToArray());
    }

    [Test]
    public async Task Chunks_of_a_closed_download_are_collected_by_the_next_pass()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        // Several rounds, because whether the pins are gone right after DisposeAsync is a matter of thread timing.
        var collected = new List<long>();
        for (var round = 0; round < 8; round++)
        {
            // Whatever an earlier round left is collected first, so that each count below is this round's alone.
            await t.Store.RunMaintenanceAsync();
            var name = $"blob{round}";
            await t.Store.UploadBytesAsync("data", name, Streams.Bytes(3 * Chunk, seed: 100 + round));
            var download = await t.Store.DownloadAsync("data", name);
            var head = new byte[10];
            await download.Content.ReadExactlyAsync(head);
            await t.Store.UploadBytesAsync("data", name, Streams.Bytes(Chunk, seed: 200 + round));
            t.Time.Advance(Grace);

            await download.DisposeAsync();
            collected.Add((await t.Store.RunMaintenanceAsync()).ChunksCollected);
        }

        collected.Should().AllBeEquivalentTo(3, "once DisposeAsync has returned, the pass right after it collects the three old chunks");
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Chunks_of_a_download_read_to_the_end_and_closed_are_collected_by_the_next_pass()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(2 * Chunk, seed: 10));
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().HaveCount(2 * Chunk);

        await t.Store.DeleteAsync("data", "blob");
        t.Time.Advance(Grace);
        var report = await t.Store.RunMaintenanceAsync();

        report.ChunksCollected.Should().Be(2);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
    }

    [Test]
    public async Task Shared_chunks_are_kept_while_any_blob_refers_to_them()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var shared = Streams.Bytes(Chunk, seed: 11);
        var own = Streams.Bytes(Chunk, seed: 12);
        await t.Store.UploadBytesAsync("data", "a", [.. shared, .. own]);
        await t.Store.UploadBytesAsync("data", "b", shared);

        await t.Store.DeleteAsync("data", "a");
        t.Time.Advance(Grace);
        var report = await t.Store.RunMaintenanceAsync();

        report.ChunksCollected.Should().Be(1);
        report.BytesReclaimed.Should().Be(Chunk);
        (await t.Store.DownloadBytesAsync("data", "b")).Should().Equal(shared);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }
}
