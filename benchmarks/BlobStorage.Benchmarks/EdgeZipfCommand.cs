using System.Globalization;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>edge-zipf [blobs] [reads]</c>: the hit ratio of a Zipf-distributed (s = 1.0) read workload over
/// (by default) 10,000 blobs of 4 KiB through one edge whose cache holds a tenth of the data.
/// </summary>
internal static class EdgeZipfCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var blobs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var reads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
        const int BlobSize = 4096;
        var root = Path.Combine(Path.GetTempPath(), "blobstorage-zipf-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var store = await new BlobStoreBuilder(root)
                .Configure(o =>
                {
                    o.EdgeCacheCapacity = (long)blobs * BlobSize / 10;
                    o.SynchronousMode = SynchronousMode.Normal;
                })
                .OpenAsync();
            await store.CreateContainerAsync("zipf");
            await store.SetCdnConfigurationAsync("zipf", new CdnConfiguration { Enabled = true, EdgeLocations = ["edge"], TimeToLive = TimeSpan.FromDays(1) });
            for (var i = 0; i < blobs; i++)
            {
                using var content = new GeneratedStream(BlobSize, seed: (ulong)i + 1);
                await store.UploadAsync("zipf", Name(i), content);
            }

            // Inverse-CDF sampling of P(k) proportional to 1 / k.
            var cumulative = new double[blobs];
            double sum = 0;
            for (var k = 0; k < blobs; k++) cumulative[k] = sum += 1.0 / (k + 1);
            var random = new Random(12345);
            for (var n = 0; n < reads; n++)
            {
                var index = Array.BinarySearch(cumulative, random.NextDouble() * sum);
                await using var download = await store.DownloadFromEdgeAsync("edge", "zipf", Name(index < 0 ? ~index : index));
                await download.Content.CopyToAsync(Stream.Null);
            }

            var stats = store.EdgeCache.GetStatistics().Total;
            Console.WriteLine($"Zipf s=1.0 over {blobs} blobs of {BlobSize} B, cache {blobs / 10 * BlobSize} B (a tenth): " +
                $"{reads} reads, hit ratio {stats.HitRatio:P1} ({stats.Hits} hits, {stats.Misses} misses, {stats.Evictions} evictions)");
            return 0;
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }

        static string Name(int i) => "blob/" + i.ToString("D5", CultureInfo.InvariantCulture);
    }
}
