using BlobStorage.Abstractions;
using BlobStorage.Tests.Faults;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Safety;

/// <summary>
/// <see cref="SynchronousMode.Normal"/> may lose the last commits in a power cut but never corrupts the store:
/// before the collector deletes a chunk file, the commit that released it is durable. The database is cut
/// back to the last flush of its write-ahead log (see <see cref="FaultyStore"/>); the chunk folder stays as
/// the process left it.
/// </summary>
public class DurabilityTests
{
    private const string Container = "durable";

    [TestCase(SynchronousMode.Normal)]
    [TestCase(SynchronousMode.Full)]
    public async Task A_collected_blob_never_comes_back_without_its_chunks(SynchronousMode mode)
    {
        await using var h = await FaultyStore.OpenAsync(
            o =>
            {
                o.SynchronousMode = mode;
                o.InlineThreshold = 0;
            },
            cutDatabase: true);
        await h.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(3 * FaultyStore.ChunkSize + 5, seed: 1);
        await h.Store.UploadBytesAsync(Container, "x", content);
        await h.Store.UploadBytesAsync(Container, "kept", Streams.Bytes(1000, seed: 2));

        // Closing checkpoints the log: both uploads are durable from here on.
        await h.CloseAsync();
        await h.OpenOverFaultsAsync();
        h.MarkDatabaseDurable();

        await h.Store.DeleteAsync(Container, "x");
        h.Time.Advance(TimeSpan.FromMinutes(16));
        (await h.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(4, "the deleted blob's chunk files are gone");

        await h.ReopenOnPlainDiskAsync();
        var x = await PowerLossTests.ReadOrExceptionAsync(h.Store, "x", Container);
        x.Should().BeNull("the delete was made durable before its chunks were deleted, so it cannot be undone by the cut");
        (await PowerLossTests.ReadOrExceptionAsync(h.Store, "kept", Container)).Should().Be(Streams.Sha256(Streams.Bytes(1000, seed: 2)));
        var report = await h.Store.VerifyAsync(verifyContent: true);
        report.MissingChunks.Should().BeEmpty();
        report.IsClean.Should().BeTrue();
    }

    /// <summary>The model has teeth: in Normal mode a plain commit is not flushed, so the cut takes it back.</summary>
    [Test]
    public async Task In_Normal_mode_an_unflushed_commit_is_lost_in_the_cut()
    {
        await using var h = await FaultyStore.OpenAsync(o => o.SynchronousMode = SynchronousMode.Normal, cutDatabase: true);
        await h.Store.CreateContainerAsync(Container);
        h.MarkDatabaseDurable();
        var flushes = h.DatabaseFlushes;
        await h.Store.UploadBytesAsync(Container, "late", Streams.Bytes(100, seed: 3));
        h.DatabaseFlushes.Should().Be(flushes, "a commit in Normal mode does not flush the log");

        await h.ReopenOnPlainDiskAsync();
        (await PowerLossTests.ReadOrExceptionAsync(h.Store, "late", Container)).Should().BeNull("the commit was never flushed");
        (await h.Store.VerifyAsync(verifyContent: true)).MissingChunks.Should().BeEmpty();
    }
}
