using BlobStorage.Abstractions;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class StatisticsTests
{
    private const int Chunk = TestStore.ChunkSize;

    [Test]
    public async Task Downloads_count_at_once_in_properties_and_persist_after_a_reopen()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var start = t.Time.GetUtcNow();
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(100));
        await t.Store.UploadBytesAsync("data", "untouched", Streams.Bytes(10));

        t.Time.Advance(TimeSpan.FromMinutes(1));
        await t.Store.DownloadBytesAsync("data", "blob");
        var once = await t.Store.GetPropertiesAsync("data", "blob");
        once.AccessCount.Should().Be(1);
        once.LastAccessedOn.Should().Be(start + TimeSpan.FromMinutes(1));

        t.Time.Advance(TimeSpan.FromMinutes(1));
        await t.Store.DownloadBytesAsync("data", "blob");
        await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.Range(new BlobRange(5, 5)));
        var thrice = await t.Store.GetPropertiesAsync("data", "blob");
        thrice.AccessCount.Should().Be(3);
        thrice.LastAccessedOn.Should().Be(start + TimeSpan.FromMinutes(2));
        thrice.LastModified.Should().Be(start, "reading is not modifying");
        thrice.ETag.Should().Be(once.ETag);

        var listed = (await t.Store.ListAsync("data")).Blobs.Single(b => b.Name == "blob");
        listed.AccessCount.Should().Be(3);
        listed.LastAccessedOn.Should().Be(start + TimeSpan.FromMinutes(2));
        var untouched = await t.Store.GetPropertiesAsync("data", "untouched");
        untouched.AccessCount.Should().Be(0);
        untouched.LastAccessedOn.Should().BeNull();

        await t.ReopenAsync();

        var persisted = await t.Store.GetPropertiesAsync("data", "blob");
        persisted.AccessCount.Should().Be(3);
        persisted.LastAccessedOn.Should().Be(start + TimeSpan.FromMinutes(2));
        (await t.Store.GetPropertiesAsync("data", "untouched")).AccessCount.Should().Be(0);

        // Counting goes on from the persisted value.
        await t.Store.DownloadBytesAsync("data", "blob");
        (await t.Store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(4);
        await t.ReopenAsync();
        (await t.Store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(4);
    }

    [Test]
    public async Task Access_counts_are_flushed_by_maintenance_and_not_counted_twice()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1, 2, 3]);
        await t.Store.DownloadBytesAsync("data", "blob");
        await t.Store.DownloadBytesAsync("data", "blob");

        var report = await t.Store.RunMaintenanceAsync();
        report.AccessRecordsFlushed.Should().Be(1);
        (await t.Store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(2);
        (await t.Store.RunMaintenanceAsync()).AccessRecordsFlushed.Should().Be(0);
        (await t.Store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(2);
        (await t.Store.GetStatisticsAsync()).ReadOperations.Should().Be(2);
        (await t.Store.GetStatisticsAsync()).ReadOperations.Should().Be(2);

        await t.ReopenAsync();
        (await t.Store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(2);
        (await t.Store.GetStatisticsAsync()).ReadOperations.Should().Be(2);
    }

    /// <summary>A store in <paramref name="folder"/> over <paramref name="metadata"/>, on a fake clock, with no maintenance timer.</summary>
    private static Task<IBlobStore> OpenOverAsync(TempFolder folder, IMetadataStore metadata, int? accessFlushBatchSize = null) =>
        new BlobStoreBuilder(folder.Path)
            .Configure(o =>
            {
                o.ChunkSize = TestStore.ChunkSize;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                if (accessFlushBatchSize is { } batch) o.AccessFlushBatchSize = batch;
            })
            .UseTimeProvider(new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero)))
            .UseMetadataStore(metadata)
            .OpenAsync();

    [TestCase(false, TestName = "Access counts stay exact while a flush is being written")]
    public async Task Access_counts_stay_exact_while_they_are_being_flushed(bool afterCommit)
    {
        using var folder = new TempFolder("gated");
        var (metadata, gate) = GatedMetadataStore.Wrap(new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = Path.Combine(folder.Path, "metadata.db") }));
        await using var disposeMetadata = metadata;
        await using var store = await OpenOverAsync(folder, metadata);
        await store.CreateContainerAsync("data");
        await store.UploadBytesAsync("data", "blob", [1, 2, 3]);
        await store.DownloadBytesAsync("data", "blob");
        (await store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(1);

        gate.HoldAccessWrites(afterCommit);
        var maintenance = store.RunMaintenanceAsync();
        long duringFlush, listedDuringFlush;
        try
        {
            await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            duringFlush = (await store.GetPropertiesAsync("data", "blob")).AccessCount;
            listedDuringFlush = (await store.ListAsync("data")).Blobs.Single().AccessCount;
        }
        finally
        {
            gate.Release();
            await maintenance;
        }

        duringFlush.Should().Be(1, "one download is one access, whether its count is in memory, being written or written");
        listedDuringFlush.Should().Be(1);
        (await store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(1);
    }

    [Test]
    public async Task A_download_that_fills_an_access_batch_does_not_wait_for_the_batch_to_be_written()
    {
        using var folder = new TempFolder("gated");
        var (metadata, gate) = GatedMetadataStore.Wrap(new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = Path.Combine(folder.Path, "metadata.db") }));
        await using var disposeMetadata = metadata;
        await using var store = await OpenOverAsync(folder, metadata, accessFlushBatchSize: 1);
        await store.CreateContainerAsync("data");
        await store.UploadBytesAsync("data", "blob", [1, 2, 3]);

        // The batch's write blocks the thread that runs it, as a commit run on its caller's thread does.
        gate.BlockAccessWrites();
        try
        {
            var download = Task.Run(() => store.DownloadBytesAsync("data", "blob"));
            (await download.WaitAsync(TimeSpan.FromSeconds(30))).Should().Equal(1, 2, 3);
            await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            gate.Release();
        }

        (await store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(1);
    }

    [Test]
    public async Task Concurrent_downloads_lose_no_count_while_batches_are_flushed_under_them()
    {
        // A batch of two blobs: flushes start all the time, while other downloads record and merge.
        await using var t = await TestStore.OpenAsync(o => o.AccessFlushBatchSize = 2);
        await t.Store.CreateContainerAsync("data");
        const int Blobs = 5;
        const int Tasks = 8;
        const int DownloadsPerTask = 60;
        for (var b = 0; b < Blobs; b++) await t.Store.UploadBytesAsync("data", $"blob-{b}", Streams.Bytes(100 + b, seed: b));

        var downloads = new long[Blobs];
        await Task.WhenAll(Enumerable.Range(0, Tasks).Select(task => Task.Run(async () =>
        {
            for (var i = 0; i < DownloadsPerTask; i++)
            {
                var b = (task + i) % Blobs;
                await using var download = await t.Store.DownloadAsync("data", $"blob-{b}");
                Interlocked.Increment(ref downloads[b]);
                download.Properties.AccessCount.Should().BeGreaterThanOrEqualTo(1, "a download counts itself");
            }
        })));

        for (var b = 0; b < Blobs; b++)
        {
            (await t.Store.GetPropertiesAsync("data", $"blob-{b}")).AccessCount.Should().Be(downloads[b], "blob-{0} was downloaded that often", b);
        }

        (await t.Store.GetStatisticsAsync()).ReadOperations.Should().Be(Tasks * DownloadsPerTask);
        await t.ReopenAsync();
        for (var b = 0; b < Blobs; b++) (await t.Store.GetPropertiesAsync("data", $"blob-{b}")).AccessCount.Should().Be(downloads[b]);
    }

    [Test]
    public async Task An_overwrite_starts_a_new_access_count()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1]);
        await t.Store.DownloadBytesAsync("data", "blob");
        await t.Store.UploadBytesAsync("data", "blob", [2]);

        var fresh = await t.Store.GetPropertiesAsync("data", "blob");
        fresh.AccessCount.Should().Be(0);
        fresh.LastAccessedOn.Should().BeNull();
        await t.ReopenAsync();
        (await t.Store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(0);
        (await t.Store.GetStatisticsAsync()).ReadOperations.Should().Be(1, "the read of the old version still happened");
    }

    [Test]
    public async Task An_empty_store_has_zero_statistics()
    {
        await using var t = await TestStore.OpenAsync();

        var stats = await t.Store.GetStatisticsAsync();

        stats.TotalBlobs.Should().Be(0);
        stats.TotalBytes.Should().Be(0);
        stats.StoredBytes.Should().Be(0);
        stats.ChunkCount.Should().Be(0);
        stats.ReadOperations.Should().Be(0);
        stats.WriteOperations.Should().Be(0);
        stats.DeleteOperations.Should().Be(0);
        stats.BytesRead.Should().Be(0);
        stats.BytesWritten.Should().Be(0);
        stats.AverageReadSize.Should().Be(0);
        stats.AverageWriteSize.Should().Be(0);
        stats.Containers.Should().BeEmpty();
    }

    [Test]
    public async Task Statistics_are_exact_and_the_same_after_a_reopen()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("one");
        await t.Store.CreateContainerAsync("two");
        await t.Store.CreateContainerAsync("three");
        var a = Streams.Bytes(Chunk + 1000, seed: 1);
        var b = Streams.Bytes(3 * Chunk + 5, seed: 2);
        var d = Streams.Bytes(10, seed: 3);
        var e1 = Streams.Bytes(Chunk + 1, seed: 4);
        var e2 = Streams.Bytes(200, seed: 5);

        await t.Store.UploadBytesAsync("one", "a", a);
        await t.Store.UploadBytesAsync("one", "b", b);
        await t.Store.UploadBytesAsync("two", "c", a);            // same bytes as a: its chunks are stored once
        await t.Store.UploadBytesAsync("two", "d", d);
        await t.Store.UploadBytesAsync("two", "e", e1);
        await t.Store.UploadBytesAsync("two", "e", e2);           // overwrite: e1's chunks are released
        await t.Store.DownloadBytesAsync("one", "a");             // Chunk + 1000
        await t.Store.DownloadBytesAsync("one", "b", FacadeTestKit.Range(new BlobRange(Chunk - 50, 100))); // 100
        await t.Store.DownloadBytesAsync("two", "c");             // Chunk + 1000
        await t.Store.DownloadBytesAsync("two", "e", FacadeTestKit.Range(BlobRange.Last(20))); // 20
        await t.Store.DeleteAsync("two", "d");

        // Failures count nothing.
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("two", "d")).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.DeleteAsync("two", "d")).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("two", "c", d, new BlobUploadOptions { Conditions = BlobRequestConditions.CreateOnly }))
            .Should().ThrowAsync<PreconditionFailedException>();
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("one", "a", FacadeTestKit.Range(new BlobRange(a.Length))))
            .Should().ThrowAsync<InvalidRangeException>();

        var expectedWritten = (long)a.Length + b.Length + a.Length + d.Length + e1.Length + e2.Length;
        var expectedRead = (2L * a.Length) + 100 + 20;
        void Check(BlobStatistics stats, string when)
        {
            stats.TotalBlobs.Should().Be(4, when);
            stats.TotalBytes.Should().Be(a.Length + b.Length + a.Length + e2.Length, when);
            stats.StoredBytes.Should().Be(a.Length + b.Length + e2.Length, "{0}: distinct chunks once, plus small content kept inline", when);
            stats.ChunkCount.Should().Be(2 + 4, when);
            stats.WriteOperations.Should().Be(6, when);
            stats.BytesWritten.Should().Be(expectedWritten, when);
            stats.ReadOperations.Should().Be(4, when);
            stats.BytesRead.Should().Be(expectedRead, when);
            stats.DeleteOperations.Should().Be(1, when);
            stats.AverageReadSize.Should().Be(expectedRead / 4.0, when);
            stats.AverageWriteSize.Should().Be(expectedWritten / 6.0, when);
            stats.Containers.Should().Equal(
                new[]
                {
                    new ContainerStatistics("one", 2, a.Length + b.Length),
                    new ContainerStatistics("three", 0, 0),
                    new ContainerStatistics("two", 2, a.Length + e2.Length),
                },
                when);
        }

        Check(await t.Store.GetStatisticsAsync(), "before the reopen");
        await t.ReopenAsync();
        Check(await t.Store.GetStatisticsAsync(), "after the reopen");

        // Garbage collection changes nothing in the totals: released chunks were already out of StoredBytes.
        t.Time.Advance(TimeSpan.FromMinutes(20));
        await t.Store.RunMaintenanceAsync();
        Check(await t.Store.GetStatisticsAsync(), "after garbage collection");
    }

    [Test]
    public async Task Statistics_count_reads_when_the_download_opens_even_if_not_read_to_the_end()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(3 * Chunk));

        await using (var download = await t.Store.DownloadAsync("data", "blob"))
        {
            var buffer = new byte[10];
            await download.Content.ReadExactlyAsync(buffer);
        }

        var stats = await t.Store.GetStatisticsAsync();
        stats.ReadOperations.Should().Be(1);
        stats.BytesRead.Should().Be(3 * Chunk, "BytesRead counts what the download was opened for");
    }

    [Test]
    public async Task Deleting_a_container_with_its_contents_counts_a_delete_per_blob()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.CreateContainerAsync("kept");
        for (var i = 0; i < 3; i++) await t.Store.UploadBytesAsync("data", $"b{i}", Streams.Bytes(100, seed: i));
        await t.Store.UploadBytesAsync("kept", "k", Streams.Bytes(7, seed: 99));

        await t.Store.DeleteContainerAsync("data", deleteContents: true);

        var stats = await t.Store.GetStatisticsAsync();
        stats.DeleteOperations.Should().Be(3);
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(7);
        stats.StoredBytes.Should().Be(7);
        stats.Containers.Should().Equal(new ContainerStatistics("kept", 1, 7));
        await t.ReopenAsync();
        (await t.Store.GetStatisticsAsync()).DeleteOperations.Should().Be(3);
    }

    [Test]
    public async Task Copies_and_metadata_updates_keep_the_totals_right()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(Chunk + 10);
        await t.Store.UploadBytesAsync("data", "a", content);
        await t.Store.CopyAsync("data", "a", "data", "b");
        await t.Store.UpdateMetadataAsync("data", "b", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("k", "v")) });

        var stats = await t.Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(2);
        stats.TotalBytes.Should().Be(2L * content.Length);
        stats.StoredBytes.Should().Be(content.Length);
        stats.ChunkCount.Should().Be(2);
        stats.Containers.Should().Equal(new ContainerStatistics("data", 2, 2L * content.Length));
    }
}
