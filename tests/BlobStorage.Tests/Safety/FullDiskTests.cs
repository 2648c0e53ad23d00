using System.Diagnostics;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Faults;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Safety;

/// <summary>
/// A full disk fails uploads with InsufficientStorage and loses nothing, and the store's own calls can still
/// free space: deletes and maintenance work on the full disk (the store spends its reserve for them). On a
/// real, small file system: a tmpfs mounted for the test where the machine allows it (Linux, as root), and
/// the fault layer otherwise.
/// </summary>
public class FullDiskTests
{
    private const string Container = "full";
    private const int Blob = 1024 * 1024;

    [Test]
    public Task On_a_full_disk_uploads_fail_typed_and_deletes_and_maintenance_free_space() =>
        OnSmallDiskAsync("24m", disk => FillEmptyAndRefillAsync(Path.Combine(disk, "store")));

    /// <summary>
    /// Runs <paramref name="body"/> on a tmpfs of <paramref name="size"/> mounted for it (the test is ignored where
    /// none can be: the fault-layer test covers the error contract there), and unmounts it after.
    /// </summary>
    private static async Task OnSmallDiskAsync(string size, Func<string, Task> body)
    {
        using var folder = new TempFolder("fulldisk");
        var disk = Path.Combine(folder.Path, "disk");
        Directory.CreateDirectory(disk);
        if (!TryMountTmpfs(disk, size, out var why)) Assert.Ignore($"No small file system to fill here ({why}); the fault-layer test covers the error contract.");
        try
        {
            await body(disk);
        }
        finally
        {
            Run("umount", "-l", disk);
        }
    }

    private static async Task FillEmptyAndRefillAsync(string root)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        Task<IBlobStore> OpenAsync() => new BlobStoreBuilder(root)
            .Configure(o =>
            {
                o.ChunkSize = 256 * 1024;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            })
            .UseTimeProvider(time)
            .OpenAsync();

        var store = await OpenAsync();
        try
        {
            await store.CreateContainerAsync(Container);
            var (acknowledged, full) = await FillAsync(store, Blob, 100);
            full.Should().NotBeNull("24 MiB fill up before 100 blobs of 1 MiB");
            full!.ErrorCode.Should().Be(BlobErrorCode.InsufficientStorage, full.ToString());
            full.InnerException.Should().NotBeNull();
            acknowledged.Should().HaveCountGreaterThan(5);
            TestContext.Out.WriteLine($"{acknowledged.Count} blobs of 1 MiB fitted; then: {full.Message}");

            // Filled to the brim by something else: not a byte left for the store.
            var filled = FillToTheBrim(Path.Combine(Path.GetDirectoryName(root)!, "filler"));
            TestContext.Out.WriteLine($"then another file took the last {filled} bytes");

            // Everything acknowledged is there, and the failed upload left no blob.
            foreach (var i in acknowledged) (await store.DownloadBytesAsync(Container, $"b{i:D3}")).Should().Equal(Streams.Bytes(Blob, seed: i));
            var failedName = $"b{acknowledged.Count:D3}";
            await FluentActions.Awaiting(() => store.GetPropertiesAsync(Container, failedName)).Should().ThrowAsync<BlobNotFoundException>();

            // Freeing space through the store's own calls, on the full disk.
            var deleted = acknowledged.Take(acknowledged.Count / 2).ToList();
            foreach (var i in deleted) await store.DeleteAsync(Container, $"b{i:D3}");
            File.Exists(Path.Combine(root, "space.reserve")).Should().BeFalse("the deletes met the full disk and spent the reserve");
            time.Advance(TimeSpan.FromMinutes(16));
            var report = await store.RunMaintenanceAsync();
            report.BytesReclaimed.Should().BeGreaterThanOrEqualTo((long)deleted.Count * Blob);

            // The reserve the deletes spent on the full disk is taken back once maintenance made room.
            var reserve = new FileInfo(Path.Combine(root, "space.reserve"));
            reserve.Exists.Should().BeTrue("maintenance takes the reserve back when there is room");
            reserve.Length.Should().Be(new BlobStorageOptions().ReservedDiskSpace);

            // Room again: a new blob fits, the rest is intact, and the store checks clean after a restart.
            await store.UploadBytesAsync(Container, "after", Streams.Bytes(Blob, seed: 1000));
            await store.DisposeAsync();
            store = await OpenAsync();
            foreach (var i in acknowledged.Skip(deleted.Count)) (await store.DownloadBytesAsync(Container, $"b{i:D3}")).Should().Equal(Streams.Bytes(Blob, seed: i));
            (await store.DownloadBytesAsync(Container, "after")).Should().Equal(Streams.Bytes(Blob, seed: 1000));
            var verification = await store.VerifyAsync(verifyContent: true);
            verification.MissingChunks.Should().BeEmpty();
            verification.ReferenceCountMismatches.Should().BeEmpty();
        }
        finally
        {
            await store.DisposeAsync();
        }
    }

    /// <summary>
    /// Blobs kept inside the metadata database fill the disk through its write-ahead log alone: the commit whose log
    /// write the disk refuses fails typed, and every put acknowledged before it reads back, then and after a restart.
    /// </summary>
    [Test]
    public Task On_a_full_disk_puts_kept_in_the_database_fail_typed_and_lose_nothing() => OnSmallDiskAsync("12m", async disk =>
    {
        var root = Path.Combine(disk, "store");
        Task<IBlobStore> OpenAsync() => new BlobStoreBuilder(root).Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan).OpenAsync();
        const int Size = 60_000;
        List<int> acknowledged;
        var store = await OpenAsync();
        try
        {
            await store.CreateContainerAsync(Container);
            (acknowledged, var full) = await FillAsync(store, Size, 1_000);
            full.Should().NotBeNull("4 MiB left beside the reserve fill up before 1,000 blobs of 60 KB");
            full!.ErrorCode.Should().Be(BlobErrorCode.InsufficientStorage, full.ToString());
            acknowledged.Should().HaveCountGreaterThan(5);
            TestContext.Out.WriteLine($"{acknowledged.Count} blobs of 60 KB fitted; then: {full.Message}");
            foreach (var i in acknowledged) (await store.DownloadBytesAsync(Container, $"b{i:D3}")).Should().Equal(Streams.Bytes(Size, seed: i));
        }
        finally
        {
            await store.DisposeAsync();
        }

        // The disk grows; the store opens again from what the full one kept.
        Run("mount", "-o", "remount,size=64m", disk).Code.Should().Be(0);
        store = await OpenAsync();
        try
        {
            foreach (var i in acknowledged) (await store.DownloadBytesAsync(Container, $"b{i:D3}")).Should().Equal(Streams.Bytes(Size, seed: i));
            await FluentActions.Awaiting(() => store.GetPropertiesAsync(Container, $"b{acknowledged.Count:D3}")).Should().ThrowAsync<BlobNotFoundException>();
        }
        finally
        {
            await store.DisposeAsync();
        }
    });

    /// <summary>Where no file system can be mounted: chunk writes fail as a full disk does, typed, and deletes still work.</summary>
    [Test]
    public async Task A_disk_that_fills_under_the_chunk_store_fails_uploads_typed_and_deletes_still_work()
    {
        await using var h = await FaultyStore.OpenAsync(o => o.InlineThreshold = 0);
        await h.Store.CreateContainerAsync(Container);
        await h.Store.UploadBytesAsync(Container, "a", Streams.Bytes(3 * FaultyStore.ChunkSize, seed: 1));
        h.Files.FailAt(1, FileOp.Create, persistent: true, flavor: FaultFlavor.DiskFull);
        var upload = () => h.Store.UploadBytesAsync(Container, "b", Streams.Bytes(3 * FaultyStore.ChunkSize, seed: 2));
        (await upload.Should().ThrowAsync<BlobStorageException>()).Which.ErrorCode.Should().Be(BlobErrorCode.InsufficientStorage);
        await h.Store.DeleteAsync(Container, "a");
        h.Time.Advance(TimeSpan.FromMinutes(16));
        (await h.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(3);
        h.Files.ClearFaults();
        await h.Store.UploadBytesAsync(Container, "b", Streams.Bytes(3 * FaultyStore.ChunkSize, seed: 2));
    }

    /// <summary>
    /// Puts blobs of <paramref name="size"/> bytes (b000, b001, ...) until the store refuses one, at most
    /// <paramref name="most"/>: the ones acknowledged, and the refusal (null if none came).
    /// </summary>
    private static async Task<(List<int> Acknowledged, BlobStorageException? Full)> FillAsync(IBlobStore store, int size, int most)
    {
        var acknowledged = new List<int>();
        for (var i = 0; i < most; i++)
        {
            try
            {
                await store.UploadBytesAsync(Container, $"b{i:D3}", Streams.Bytes(size, seed: i));
                acknowledged.Add(i);
            }
            catch (BlobStorageException ex)
            {
                return (acknowledged, ex);
            }
        }

        return (acknowledged, null);
    }

    /// <summary>Writes a file until the disk refuses another byte; returns its length.</summary>
    private static long FillToTheBrim(string path)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var block in new[] { 64 * 1024, 4096, 512, 1 })
        {
            var bytes = new byte[block];
            while (true)
            {
                try
                {
                    file.Write(bytes);
                }
                catch (IOException)
                {
                    break;
                }
            }
        }

        return file.Length;
    }

    private static bool TryMountTmpfs(string path, string size, out string why)
    {
        why = "";
        if (!OperatingSystem.IsLinux())
        {
            why = "not Linux";
            return false;
        }

        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        why = $"mount exited with {code}: {output.Trim()}";
        return code == 0;
    }

    private static (int Code, string Output) Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }
}
