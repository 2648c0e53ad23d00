using System.Diagnostics;
using System.Globalization;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>multipart [--dir PATH] [--size-mib N]</c>: how long completing a multipart upload takes for 10,
/// 100 and 1,000 parts (completion stitches chunk lists in one transaction, so it should not grow
/// with the bytes), and a 1 GiB upload in 100 parts sent by 4 tasks against the same bytes as one
/// single upload, measured in the same run on the same folder.
/// </summary>
internal static class MultipartCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var dir = Option(args, "--dir") ?? Path.Combine(Directory.GetCurrentDirectory(), ".multipart-bench");
        var sizeMiB = long.Parse(Option(args, "--size-mib") ?? "1024", CultureInfo.InvariantCulture);
        var root = Path.Combine(dir, Guid.NewGuid().ToString("N"));
        try
        {
            await using var store = await new BlobStoreBuilder(root)
                .Configure(o => o.MultipartMinimumPartSize = 64 * 1024)
                .OpenAsync();
            await store.CreateContainerAsync("bench");

            Console.WriteLine("| parts | part size | bytes | upload parts | complete | complete per part |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
            foreach (var (parts, partSize) in new[] { (10, 1L << 20), (100, (sizeMiB << 20) / 100), (1000, 1L << 20) })
            {
                var id = await store.StartMultipartUploadAsync("bench", $"stitch-{parts}");
                var upload = Stopwatch.StartNew();
                var etags = await UploadPartsAsync(store, id, parts, partSize, tasks: 4, seed: (ulong)parts);
                upload.Stop();
                var complete = Stopwatch.StartNew();
                await store.CompleteMultipartUploadAsync(id, etags.Select((e, i) => new CompletedPart(i + 1, e)));
                complete.Stop();
                Console.WriteLine($"| {parts} | {Mib(partSize)} | {Mib(parts * partSize)} | {upload.Elapsed.TotalSeconds:F2} s | {complete.Elapsed.TotalMilliseconds:F2} ms | {complete.Elapsed.TotalMilliseconds * 1000 / parts:F1} µs |");
            }

            var total = sizeMiB << 20;
            Console.WriteLine();
            Console.WriteLine($"| {Mib(total)} upload | seconds | MB/s | ratio to single |");
            Console.WriteLine("|---|---:|---:|---:|");
            var single = Stopwatch.StartNew();
            await using (var content = new GeneratedStream(total, seed: 7))
            {
                await store.UploadAsync("bench", "single", content);
            }

            single.Stop();
            var multipart = Stopwatch.StartNew();
            var uploadId = await store.StartMultipartUploadAsync("bench", "multipart");
            var tags = await UploadPartsAsync(store, uploadId, 100, total / 100, tasks: 4, seed: 11);
            await store.CompleteMultipartUploadAsync(uploadId, tags.Select((e, i) => new CompletedPart(i + 1, e)));
            multipart.Stop();
            Console.WriteLine($"| single UploadAsync | {single.Elapsed.TotalSeconds:F2} | {total / 1e6 / single.Elapsed.TotalSeconds:F0} | 1.00 |");
            Console.WriteLine($"| 100 parts, 4 tasks | {multipart.Elapsed.TotalSeconds:F2} | {total / 1e6 / multipart.Elapsed.TotalSeconds:F0} | {single.Elapsed.TotalSeconds / multipart.Elapsed.TotalSeconds:F2} |");
            return 0;
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<string[]> UploadPartsAsync(IBlobStore store, string uploadId, int parts, long partSize, int tasks, ulong seed)
    {
        var etags = new string[parts];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < parts)
            {
                await using var content = new GeneratedStream(partSize, seed * 100_000 + (ulong)index);
                etags[index] = (await store.UploadPartAsync(uploadId, index + 1, content)).ETag;
            }
        })));
        return etags;
    }

    private static string Mib(long bytes) => bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):F0} MiB" : $"{bytes / 1024.0:F0} KiB";

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
