using System.Globalization;
using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The small operations of issue 16's write half, through <see cref="BlobStoreBuilder"/> defaults: a listing of one
/// prefix of 100 blobs among 10,000 (as <c>compare</c>'s <c>list</c>), and durable puts of 4 KiB and 64 KiB (kept inline
/// in the metadata database: one WAL commit, flushed). <c>small-ops</c> measures the same operations in steady state with
/// the CPU per operation; this gives their time and allocations under BenchmarkDotNet's statistics.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class SmallOpsBenchmarks
{
    private const string Container = "bench";
    private const int ListBlobs = 10_000;

    private string _root = "";
    private IBlobStore _store = null!;
    private long _next;

    [GlobalSetup]
    public void GlobalSetup() => SetUpAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Lists the 100 blobs of one prefix, in one page.</summary>
    [Benchmark]
    public async Task<int> ListPrefixOf100()
    {
        var page = await _store.ListAsync(Container, new BlobListOptions { Prefix = "list/p050/", PageSize = BlobListOptions.MaxPageSize });
        return page.ContinuationToken is null && page.Blobs.Count == 100
            ? page.Blobs.Count
            : throw new InvalidDataException($"The listing found {page.Blobs.Count} blobs; 100 were put.");
    }

    /// <summary>Puts 4 KiB of new content under a new name, durably.</summary>
    [Benchmark]
    public async Task<BlobProperties> Put4KiB()
    {
        var n = Interlocked.Increment(ref _next);
        using var content = new GeneratedStream(4 * 1024, (ulong)n);
        return await _store.UploadAsync(Container, "put/" + n.ToString("D8", CultureInfo.InvariantCulture), content);
    }

    /// <summary>Puts 64 KiB of new content under a new name, durably: the largest blob kept inline by default.</summary>
    [Benchmark]
    public async Task<BlobProperties> Put64KiB()
    {
        var n = Interlocked.Increment(ref _next);
        using var content = new GeneratedStream(64 * 1024, (ulong)n);
        return await _store.UploadAsync(Container, "put/" + n.ToString("D8", CultureInfo.InvariantCulture), content);
    }

    private async Task SetUpAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-smallops-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        _store = await new BlobStoreBuilder(_root).OpenAsync();
        await _store.CreateContainerAsync(Container);
        for (var i = 0; i < ListBlobs; i++)
        {
            using var content = new GeneratedStream(1024, (ulong)i + 1_000_000);
            await _store.UploadAsync(Container, string.Create(CultureInfo.InvariantCulture, $"list/p{i / 100:D3}/i{i % 100:D3}"), content);
        }
    }
}
