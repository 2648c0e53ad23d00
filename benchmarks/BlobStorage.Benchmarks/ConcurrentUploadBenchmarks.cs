using System.Globalization;
using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// Eight uploads of 16 MiB at once (four 4 MiB chunks each), durable, through <see cref="BlobStoreBuilder"/> defaults: the
/// path where every upload streams its chunks to their files a slice at a time (before: held each chunk whole while it
/// read it, and more while its earlier chunks were written). Reported per round of eight; the allocations count the
/// buffers the store's pool could not lend again.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class ConcurrentUploadBenchmarks
{
    private const string Container = "bench";
    private const int Uploads = 8;

    private string _root = "";
    private IBlobStore _store = null!;
    private long _next;

    /// <summary>The size of each blob, in bytes (the MB/s column counts one of them).</summary>
    [Params(16 * 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-concurrent-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        _store = new BlobStoreBuilder(_root).OpenAsync().GetAwaiter().GetResult();
        _store.CreateContainerAsync(Container).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Eight uploads of new content under new names, started together, then deleted.</summary>
    [Benchmark]
    public async Task<long> EightUploadsAtOnce()
    {
        var round = Interlocked.Increment(ref _next);
        var names = Enumerable.Range(0, Uploads).Select(i => string.Create(CultureInfo.InvariantCulture, $"r{round}/b{i}")).ToArray();
        var sizes = await Task.WhenAll(names.Select((name, i) => Task.Run(async () =>
        {
            using var content = new GeneratedStream(Size, (ulong)((round * Uploads) + i));
            return (await _store.UploadAsync(Container, name, content)).Size;
        })));

        // The disk is bounded by deleting each round's blobs in the same measured call: the same work before and after a change.
        foreach (var name in names) await _store.DeleteAsync(Container, name);
        return sizes.Sum();
    }
}
