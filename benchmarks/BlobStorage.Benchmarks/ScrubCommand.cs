using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>scrub [MiB]</c>: stores that many MiB (default 256) in a LocalRedundancy container on three node folders and
/// times <see cref="IBlobStore.ScrubAsync"/> over it, reporting the rate of bytes read and verified (every copy,
/// against its id: the chunks of these 16 MiB blobs are named by BLAKE3). The page cache holds what was just
/// written, so this is the CPU-bound rate; a cold disk is slower.
/// </summary>
internal static class ScrubCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mib = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 256;
        var root = Path.Combine(Path.GetTempPath(), "blobstorage-bench-scrub-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var store = await ReplicationBenchmarks.OpenTopologyAsync(root);
            await store.CreateContainerAsync("local", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
            for (var i = 0; i < mib / 16; i++)
            {
                await using var content = new GeneratedStream(16L * 1024 * 1024, seed: (ulong)i + 1);
                await store.UploadAsync("local", $"blob/{i}", content);
            }

            await store.ScrubAsync();
            for (var run = 1; run <= 3; run++)
            {
                var report = await store.ScrubAsync();
                Console.WriteLine($"scrub run {run}: {report.CopiesChecked} copies of {report.ChunksChecked} chunks, {report.BytesVerified / 1048576.0:F0} MiB verified in {report.Duration.TotalSeconds:F2} s = {report.BytesVerified / 1e6 / report.Duration.TotalSeconds:F0} MB/s");
            }

            return 0;
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
