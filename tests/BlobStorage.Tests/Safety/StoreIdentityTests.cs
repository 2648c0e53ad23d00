using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Safety;

/// <summary>
/// A store knows itself: the metadata database and the chunk folder carry the same store id. A folder whose
/// database is missing, empty, of another store, or whose write-ahead log was lost must never be taken for
/// an empty store whose chunks are all orphans: it is refused, or opened without deleting a chunk file.
/// </summary>
public class StoreIdentityTests
{
    private const string Container = "safe";
    private const int Blobs = 12;

    private static byte[] Content(int i) => Streams.Bytes(TestStore.ChunkSize * (1 + (i % 3)) + 17 * i, seed: 100 + i);

    private static async Task<TestStore> StoreWithBlobsAsync()
    {
        var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        for (var i = 0; i < Blobs; i++) await t.Store.UploadBytesAsync(Container, $"blob-{i:D2}", Content(i));
        return t;
    }

    private static string Db(TestStore t) => Path.Combine(t.RootPath, "metadata.db");

    private static string ChunkFolder(TestStore t) => Path.Combine(t.RootPath, "chunks");

    /// <summary>Every chunk file with its bytes, to show that nothing was deleted or changed.</summary>
    private static Dictionary<string, string> ChunkFiles(TestStore t) =>
        Directory.EnumerateFiles(ChunkFolder(t), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f).Length == 64)
            .ToDictionary(f => Path.GetRelativePath(ChunkFolder(t), f), f => Streams.Sha256(File.ReadAllBytes(f)));

    private static async Task<BlobStorageException> RefusedAsync(TestStore t)
    {
        var open = t.ReopenAsync;
        var error = (await open.Should().ThrowAsync<BlobStorageException>()).Which;
        error.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        return error;
    }

    private static async Task AllBlobsReadBackAsync(IBlobStore store)
    {
        for (var i = 0; i < Blobs; i++)
        {
            (await store.DownloadBytesAsync(Container, $"blob-{i:D2}")).Should().Equal(Content(i), $"blob-{i:D2} was acknowledged");
        }
    }

    [TestCase(true, TestName = "A deleted metadata database is refused and no chunk file is deleted")]
    [TestCase(false, TestName = "A metadata database emptied to 0 bytes is refused and no chunk file is deleted")]
    public async Task A_missing_or_empty_database_is_refused(bool delete)
    {
        await using var t = await StoreWithBlobsAsync();
        await t.Store.DisposeAsync();
        var before = ChunkFiles(t);
        before.Should().NotBeEmpty();
        var backup = await File.ReadAllBytesAsync(Db(t));
        if (delete) File.Delete(Db(t));
        else await File.WriteAllBytesAsync(Db(t), []);

        var error = await RefusedAsync(t);
        error.Message.Should().Contain("metadata.db").And.Contain("missing or empty").And.Contain("backup");
        ChunkFiles(t).Should().Equal(before, "a refused open deletes nothing");
        File.Exists(Db(t)).Should().Be(!delete, "the refused open made no new database");

        // The operator restores the database: every blob is there.
        await File.WriteAllBytesAsync(Db(t), backup);
        await t.ReopenAsync();
        await AllBlobsReadBackAsync(t.Store);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Another_stores_database_is_refused()
    {
        await using var t = await StoreWithBlobsAsync();
        await using var other = await TestStore.OpenAsync();
        await other.Store.CreateContainerAsync("other");
        await other.Store.UploadBytesAsync("other", "x", Streams.Bytes(100, seed: 5));
        await other.Store.DisposeAsync();
        await t.Store.DisposeAsync();
        var before = ChunkFiles(t);
        var backup = await File.ReadAllBytesAsync(Db(t));
        File.Copy(Db(other), Db(t), overwrite: true);

        var error = await RefusedAsync(t);
        error.Message.Should().Contain("belongs to store").And.Contain("metadata.db");
        ChunkFiles(t).Should().Equal(before);

        await File.WriteAllBytesAsync(Db(t), backup);
        await t.ReopenAsync();
        await AllBlobsReadBackAsync(t.Store);
    }

    [Test]
    public async Task A_new_database_beside_chunks_without_a_marker_is_refused()
    {
        // Chunks copied into a fresh folder without their database (or a store made before markers, emptied of metadata).
        await using var t = await StoreWithBlobsAsync();
        await t.Store.DisposeAsync();
        File.Delete(Path.Combine(ChunkFolder(t), ".store-id"));
        File.Delete(Db(t));
        var before = ChunkFiles(t);

        var error = await RefusedAsync(t);
        error.Message.Should().Contain("missing or empty");
        ChunkFiles(t).Should().Equal(before);
    }

    [Test]
    public async Task A_lost_marker_is_written_again_from_a_database_that_holds_blobs()
    {
        await using var t = await StoreWithBlobsAsync();
        await t.Store.DisposeAsync();
        var marker = Path.Combine(ChunkFolder(t), ".store-id");
        var id = (await File.ReadAllTextAsync(marker)).Trim();
        id.Should().MatchRegex("^[0-9a-f]{32}$");
        File.Delete(marker);

        await t.ReopenAsync();
        (await File.ReadAllTextAsync(marker)).Trim().Should().Be(id);
        await AllBlobsReadBackAsync(t.Store);
    }

    [Test]
    public async Task A_damaged_marker_is_refused()
    {
        await using var t = await StoreWithBlobsAsync();
        await t.Store.DisposeAsync();
        await File.WriteAllTextAsync(Path.Combine(ChunkFolder(t), ".store-id"), "not an id at all\n");
        var before = ChunkFiles(t);

        var error = await RefusedAsync(t);
        error.Message.Should().Contain(".store-id").And.Contain("damaged");
        ChunkFiles(t).Should().Equal(before);
    }

    /// <summary>
    /// The write-ahead log deleted after a kill, with the database file as the last checkpoint left it: the
    /// store's id is there, the blobs written since are not. Their chunk files look like orphans; none is
    /// deleted at open (they are younger than the grace period), nor later (they are most of the store).
    /// </summary>
    [Test]
    public async Task A_lost_write_ahead_log_deletes_no_chunk_file()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "early", Streams.Bytes(3 * TestStore.ChunkSize, seed: 1));
        await t.ReopenAsync(); // closing checkpoints: the database file holds the id, the container and 'early'
        var checkpointed = await File.ReadAllBytesAsync(Db(t));
        for (var i = 0; i < Blobs; i++) await t.Store.UploadBytesAsync(Container, $"blob-{i:D2}", Content(i));
        await t.Store.DisposeAsync();
        var before = ChunkFiles(t);

        // As after a kill: the database file without the log that held the later commits.
        await File.WriteAllBytesAsync(Db(t), checkpointed);
        File.Delete(Db(t) + "-wal");
        await t.ReopenAsync();
        ChunkFiles(t).Should().Equal(before, "nothing is deleted at open: the unreferenced chunk files are younger than the grace period");
        (await t.Store.DownloadBytesAsync(Container, "early")).Should().Equal(Streams.Bytes(3 * TestStore.ChunkSize, seed: 1));

        // Long after: the orphans are past the grace period but most of the store, so the pass holds them and says so.
        t.Time.SetUtcNow(DateTimeOffset.UtcNow + TimeSpan.FromHours(1));
        var report = await t.Store.RunMaintenanceAsync();
        report.OrphansRemoved.Should().Be(0);
        report.OrphansPending.Should().Be(before.Count - 3);
        ChunkFiles(t).Should().Equal(before);
    }

    [Test]
    public async Task A_new_store_writes_its_marker_and_opens_again()
    {
        await using var t = await StoreWithBlobsAsync();
        await t.ReopenAsync();
        await t.ReopenAsync();
        File.Exists(Path.Combine(ChunkFolder(t), ".store-id")).Should().BeTrue();
        await AllBlobsReadBackAsync(t.Store);
    }
}
