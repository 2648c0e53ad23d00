using System.Diagnostics;
using System.Security.Cryptography;

namespace BlobStorage.Benchmarks;

/// <summary>
/// backup [--size-mib N] [--blob-mib M] [--dir PATH] [--copy-dir PATH]: fills a store with N MiB of random blobs of M MiB,
/// backs it up in full, overwrites 1 % of the blobs, and backs it up again (incremental) - into a folder on the store's own
/// file system (chunks hard-linked) and, with --copy-dir on another file system (chunks copied and flushed). Prints the times
/// and their ratio.
/// </summary>
internal static class BackupCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMib = 1024;
        var blobMib = 4;
        var dir = Path.GetTempPath();
        string? copyDir = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--size-mib": sizeMib = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--blob-mib": blobMib = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--dir": dir = args[i + 1]; break;
                case "--copy-dir": copyDir = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var run = Guid.NewGuid().ToString("N")[..8];
        var root = Path.Combine(dir, "bs-backup-" + run);
        var targets = new List<(string Kind, string Path)> { ("same file system (links)", Path.Combine(dir, "bs-backup-" + run + "-dest")) };
        if (copyDir is not null) targets.Add(("other file system (copies)", Path.Combine(copyDir, "bs-backup-" + run + "-dest")));
        try
        {
            await using var store = await new BlobStoreBuilder(root).Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan).OpenAsync();
            await store.CreateContainerAsync("data");
            var blobs = sizeMib / blobMib;
            var buffer = new byte[blobMib * 1024 * 1024];
            for (var i = 0; i < blobs; i++)
            {
                RandomNumberGenerator.Fill(buffer);
                await store.UploadAsync("data", $"blob-{i:D6}", new MemoryStream(buffer, writable: false));
            }

            Console.WriteLine($"store: {blobs} blobs of {blobMib} MiB = {sizeMib} MiB at {root}");
            foreach (var (kind, target) in targets)
            {
                var full = Stopwatch.StartNew();
                var first = await store.BackupAsync(target);
                full.Stop();
                Console.WriteLine($"{kind}: full backup {full.Elapsed.TotalSeconds:0.000} s ({first.ChunksLinked} linked, {first.ChunksCopied} copied, {first.BytesCopied / (1024 * 1024)} MiB copied)");
            }

            // 1 % of the blobs change.
            var changed = Math.Max(1, blobs / 100);
            for (var i = 0; i < changed; i++)
            {
                RandomNumberGenerator.Fill(buffer);
                await store.UploadAsync("data", $"blob-{i * 100:D6}", new MemoryStream(buffer, writable: false));
            }

            foreach (var (kind, target) in targets)
            {
                var incremental = Stopwatch.StartNew();
                var second = await store.BackupAsync(target);
                incremental.Stop();
                Console.WriteLine($"{kind}: incremental backup after {changed} of {blobs} blobs changed: {incremental.Elapsed.TotalSeconds:0.000} s ({second.ChunksLinked} linked, {second.ChunksCopied} copied, {second.ChunksAlreadyPresent} already there)");
            }

            return 0;
        }
        finally
        {
            foreach (var path in targets.Select(t => t.Path).Append(root))
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            }
        }
    }
}
