using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// Upload and download of a 16 MiB blob (four 4 MiB chunks) in the Archive class (compressed at rest) against the
/// same blob in Standard (raw), on text (the .NET reference documentation, as the <c>compression</c> command uses)
/// and on random bytes; Standard is the baseline of each group, so the Ratio column is Archive's cost.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StorageClassBenchmarks
{
    private const string Container = "bench";
    private const int ChunkSize = 4 * 1024 * 1024;
    private const int UploadNames = 8;

    private string _root = "";
    private IBlobStore _store = null!;
    private byte[] _payload = [];
    private byte[] _readBuffer = [];
    private long _uploads;

    /// <summary>The bytes of each blob.</summary>
    [Params(16 * 1024 * 1024)]
    public int Size { get; set; }

    /// <summary>What the blob holds: text, which compresses, or random bytes, which do not.</summary>
    [Params("text", "random")]
    public string Content { get; set; } = "text";

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-bench-" + Guid.NewGuid().ToString("N"));
        _store = await new BlobStoreBuilder(_root)
            .Configure(o =>
            {
                o.GarbageCollectionGracePeriod = TimeSpan.Zero;
                o.MaintenanceInterval = TimeSpan.FromSeconds(10);
            })
            .OpenAsync();
        await _store.CreateContainerAsync(Container);
        _payload = Content == "text" ? CompressionCommand.TextSample(Size) : new byte[Size];
        if (Content != "text") new Random(42).NextBytes(_payload);
        _readBuffer = new byte[64 * 1024];
        await _store.UploadAsync(Container, "download/standard", new MemoryStream(_payload, writable: false));
        MakeUnique(-1);
        await _store.UploadAsync(Container, "download/archive", new MemoryStream(_payload, writable: false), new BlobUploadOptions { StorageClass = StorageClass.Archive });
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Upload")]
    public Task<BlobProperties> UploadStandard() => UploadAsync(StorageClass.Standard);

    [Benchmark]
    [BenchmarkCategory("Upload")]
    public Task<BlobProperties> UploadArchive() => UploadAsync(StorageClass.Archive);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Download")]
    public Task<long> DownloadStandard() => DownloadAsync("download/standard");

    [Benchmark]
    [BenchmarkCategory("Download")]
    public Task<long> DownloadArchive() => DownloadAsync("download/archive");

    private async Task<BlobProperties> UploadAsync(StorageClass storageClass)
    {
        var n = _uploads++;
        MakeUnique(n);
        using var content = new MemoryStream(_payload, writable: false);
        return await _store.UploadAsync(Container, $"upload/{n % UploadNames}", content, new BlobUploadOptions { StorageClass = storageClass });
    }

    /// <summary>A counter at the start of every chunk makes each chunk new, so deduplication cannot skip a write.</summary>
    private void MakeUnique(long n)
    {
        for (var offset = 0; offset < _payload.Length; offset += ChunkSize) BinaryPrimitives.WriteInt64LittleEndian(_payload.AsSpan(offset), n);
    }

    private async Task<long> DownloadAsync(string name)
    {
        await using var download = await _store.DownloadAsync(Container, name);
        long total = 0;
        int read;
        while ((read = await download.Content.ReadAsync(_readBuffer)) > 0) total += read;
        return total;
    }
}
