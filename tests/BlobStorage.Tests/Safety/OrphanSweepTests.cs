using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Safety;

/// <summary>
/// Collection is the only thing that deletes data, and it deletes only what nothing has referenced for
/// longer than the grace period: a chunk file without a row is kept while it is young (a commit may be on
/// its way, in this process or another), and a sweep that would delete a large share of the store at once
/// stops and says so.
/// </summary>
public class OrphanSweepTests
{
    private const string Container = "sweep";

    /// <summary>Plants a valid chunk file that no row refers to, dated <paramref name="age"/> before the store's clock.</summary>
    private static async Task<string> PlantOrphanAsync(TestStore t, int seed, TimeSpan age)
    {
        var content = Streams.Bytes(1000 + seed, seed: 9000 + seed);
        var id = ChunkId.Compute(content);
        using (var chunks = new BlobStorage.Chunks.FileSystem.FileSystemChunkStore(Path.Combine(t.RootPath, "chunks")))
        {
            await chunks.WriteAsync(id, content);
        }

        var path = Path.Combine(t.RootPath, "chunks", id.ToString()[..2], id.ToString());
        FileClock.SetWrittenAt(path, t.Time.GetUtcNow() - age);
        return path;
    }

    private static async Task<TestStore> StoreWithOneBlobAsync(Action<BlobStorageOptions>? configure = null)
    {
        var t = await TestStore.OpenAsync(configure);
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "kept", Streams.Bytes(2 * TestStore.ChunkSize, seed: 1));
        await t.Store.DisposeAsync();
        return t;
    }

    [Test]
    public async Task An_orphan_younger_than_the_grace_period_survives_open_and_maintenance_and_goes_once_older()
    {
        await using var t = await StoreWithOneBlobAsync();
        var orphan = await PlantOrphanAsync(t, 1, TimeSpan.FromMinutes(14));

        await t.ReopenAsync();
        File.Exists(orphan).Should().BeTrue("a chunk file 14 minutes old may belong to a commit on its way");
        var first = await t.Store.RunMaintenanceAsync();
        first.OrphansRemoved.Should().Be(0);
        first.OrphansPending.Should().Be(1);
        File.Exists(orphan).Should().BeTrue();

        t.Time.Advance(TimeSpan.FromMinutes(2));
        var second = await t.Store.RunMaintenanceAsync();
        second.OrphansRemoved.Should().Be(1);
        File.Exists(orphan).Should().BeFalse();
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task An_orphan_older_than_the_grace_period_is_removed_at_open()
    {
        await using var t = await StoreWithOneBlobAsync();
        var orphan = await PlantOrphanAsync(t, 1, TimeSpan.FromMinutes(16));
        await t.ReopenAsync();
        File.Exists(orphan).Should().BeFalse();
        (await t.Store.DownloadBytesAsync(Container, "kept")).Should().Equal(Streams.Bytes(2 * TestStore.ChunkSize, seed: 1));
    }

    [Test]
    public async Task A_sweep_that_would_delete_most_of_the_store_deletes_nothing_until_allowed()
    {
        await using var t = await StoreWithOneBlobAsync();
        var orphans = new List<string>();
        for (var i = 0; i < 20; i++) orphans.Add(await PlantOrphanAsync(t, i, TimeSpan.FromDays(1)));

        // 20 old orphans beside 2 referenced chunks: 91% of the store, more than the default 50% and the floor of 16.
        await t.ReopenAsync();
        orphans.Should().OnlyContain(f => File.Exists(f), "a sweep that would delete most of the store stops");
        var report = await t.Store.RunMaintenanceAsync();
        report.OrphansRemoved.Should().Be(0);
        report.OrphansPending.Should().Be(20);
        orphans.Should().OnlyContain(f => File.Exists(f));

        // The operator looked and decides: one pass with a higher share deletes them.
        await t.Store.DisposeAsync();
        await using var allowed = await new BlobStoreBuilder(t.RootPath)
            .Configure(o =>
            {
                o.ChunkSize = TestStore.ChunkSize;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                o.MaxOrphanShare = 1;
            })
            .UseTimeProvider(t.Time)
            .OpenAsync();
        orphans.Should().OnlyContain(f => !File.Exists(f));
        (await allowed.DownloadBytesAsync(Container, "kept")).Should().Equal(Streams.Bytes(2 * TestStore.ChunkSize, seed: 1));
    }

    [Test]
    public async Task A_few_orphans_are_removed_whatever_their_share()
    {
        await using var t = await StoreWithOneBlobAsync();
        var orphans = new List<string>();
        for (var i = 0; i < 5; i++) orphans.Add(await PlantOrphanAsync(t, i, TimeSpan.FromDays(1)));
        await t.ReopenAsync();
        orphans.Should().OnlyContain(f => !File.Exists(f), "up to OrphanDeletionFloor (16) orphans go whatever share of the store they are");
    }

    /// <summary>OrphansRemoved counts files deleted, not chunk ids the replicator was asked to delete.</summary>
    [Test]
    public async Task OrphansRemoved_counts_only_files_that_were_deleted()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(4 * TestStore.ChunkSize, seed: 3);

        // Refused after its chunks were written: four orphan chunk files, suspects of the failed upload.
        var refused = () => t.Store.UploadBytesAsync(Container, "x", content, new BlobUploadOptions { ExpectedContentHash = new string('0', 64) });
        await refused.Should().ThrowAsync<BlobStorageException>();
        var files = Directory.EnumerateFiles(Path.Combine(t.RootPath, "chunks"), "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f).Length == 64).ToList();
        files.Should().HaveCount(4);

        // Two of them vanish by other means before the pass.
        File.Delete(files[0]);
        File.Delete(files[1]);
        t.Time.PassGracePeriodOfFiles();
        var report = await t.Store.RunMaintenanceAsync();
        report.OrphansRemoved.Should().Be(2, "two files were there to delete");
        files.Should().OnlyContain(f => !File.Exists(f));
    }

    [TestCase("MaxOrphanShare")]
    [TestCase("OrphanDeletionFloor")]
    [TestCase("ReservedDiskSpace")]
    public async Task Safety_limits_are_validated_at_open(string setting)
    {
        using var folder = new TempFolder("limits");
        Action<BlobStorageOptions> wrong = setting switch
        {
            "MaxOrphanShare" => o => o.MaxOrphanShare = 1.5,
            "OrphanDeletionFloor" => o => o.OrphanDeletionFloor = -1,
            _ => o => o.ReservedDiskSpace = -1,
        };
        var open = () => new BlobStoreBuilder(folder.Path).Configure(wrong).OpenAsync();
        await open.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage($"*{setting}*");
        Directory.EnumerateFileSystemEntries(folder.Path).Should().BeEmpty("a store with a wrong setting writes nothing");
    }
}
