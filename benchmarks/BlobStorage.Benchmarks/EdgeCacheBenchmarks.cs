using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// A read served from an edge's copy against a direct read of the same blob, 64 KiB and 1 MiB, in the
/// same run: the ratio column says what an edge hit saves.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class EdgeCacheBenchmarks
{
    private const string Container = "images";
    private const string Edge = "us-east-1";

    private string _root = "";
    private IBlobStore _store = null!;
    private byte[] _buffer = [];

    /// <summary>The size of the blob, in bytes.</summary>
    [Params(64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-bench-edge-" + Guid.NewGuid().ToString("N"));
        _store = await new BlobStoreBuilder(_root).OpenAsync();
        await _store.CreateContainerAsync(Container);
        await _store.SetCdnConfigurationAsync(Container, new CdnConfiguration { Enabled = true, EdgeLocations = [Edge], TimeToLive = TimeSpan.FromDays(1) });
        using var content = new GeneratedStream(Size, seed: 11);
        await _store.UploadAsync(Container, "blob", content);
        _buffer = new byte[64 * 1024];
        await EdgeHit(); // the first edge read is the miss that fills the copy
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Reads the blob from the store: metadata, chunk files, checksums.</summary>
    [Benchmark(Baseline = true)]
    public async Task<long> DirectRead()
    {
        await using var download = await _store.DownloadAsync(Container, "blob");
        return await DrainAsync(download.Content);
    }

    /// <summary>Reads the same blob through an edge that holds it: the version check, then memory.</summary>
    [Benchmark]
    public async Task<long> EdgeHit()
    {
        await using var download = await _store.DownloadFromEdgeAsync(Edge, Container, "blob");
        return await DrainAsync(download.Content);
    }

    private async Task<long> DrainAsync(Stream content)
    {
        long total = 0;
        int read;
        while ((read = await content.ReadAsync(_buffer)) > 0) total += read;
        return total;
    }
}
