using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// Upload and download of one blob per operation, 4 KiB, 1 MiB and 16 MiB (four chunks), on a durable store
/// (synchronous = FULL, every chunk flushed) in a temporary folder.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class UploadDownloadBenchmarks
{
    private const string Container = "bench";

    // Uploads rotate over this many names, so the store holds a bounded set of blobs and
    // overwritten versions become garbage that the collector reclaims during the run.
    private const int UploadNames = 64;

    private const int ConcurrentUploads = 8;

    private string _root = "";
    private IBlobStore _store = null!;
    private byte[] _payload = [];
    private byte[][] _concurrentPayloads = [];
    private byte[] _readBuffer = [];
    private string[] _uploadNames = [];
    private long _uploads;

    /// <summary>The size of each blob, in bytes.</summary>
    [Params(4 * 1024, 1024 * 1024, 16 * 1024 * 1024)]
    public int Size { get; set; }

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

        _payload = new byte[Size];
        GeneratedStream.Fill(seed: 42, position: 0, _payload);
        _concurrentPayloads = Enumerable.Range(0, ConcurrentUploads).Select(_ => (byte[])_payload.Clone()).ToArray();
        _readBuffer = new byte[64 * 1024];
        _uploadNames = Enumerable.Range(0, UploadNames).Select(i => $"upload/{i:D3}").ToArray();

        using var content = new GeneratedStream(Size, seed: 7);
        await _store.UploadAsync(Container, "download/blob", content);
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Uploads <see cref="Size"/> bytes of content never stored before (so every chunk is really written).</summary>
    [Benchmark]
    public async Task<BlobProperties> Upload()
    {
        var n = _uploads++;

        // A counter in the first bytes makes every upload's content, and so its chunks, new:
        // otherwise deduplication would skip the chunk writes after the first upload.
        BinaryPrimitives.WriteInt64LittleEndian(_payload, n);
        using var content = new MemoryStream(_payload, writable: false);
        return await _store.UploadAsync(Container, _uploadNames[n % UploadNames], content);
    }

    /// <summary>
    /// Eight uploads of <see cref="Size"/> bytes at once, each from a pool thread, as eight request handlers would
    /// make them: what group commit (4 KiB: one transaction for several blobs) and the chunk flushes of concurrent
    /// puts (1 MiB) give. Reported per upload.
    /// </summary>
    [Benchmark(OperationsPerInvoke = ConcurrentUploads)]
    public async Task UploadEightAtOnce()
    {
        var first = _uploads;
        _uploads += ConcurrentUploads;
        var uploads = new Task[ConcurrentUploads];
        for (var i = 0; i < uploads.Length; i++)
        {
            var n = first + i;
            uploads[i] = Task.Run(async () =>
            {
                var payload = _concurrentPayloads[n % ConcurrentUploads];
                BinaryPrimitives.WriteInt64LittleEndian(payload, n);
                using var content = new MemoryStream(payload, writable: false);
                await _store.UploadAsync(Container, _uploadNames[n % UploadNames], content);
            });
        }

        await Task.WhenAll(uploads);
    }

    /// <summary>Downloads a <see cref="Size"/>-byte blob, reading its whole stream into a reusable buffer.</summary>
    [Benchmark]
    public async Task<long> Download()
    {
        await using var download = await _store.DownloadAsync(Container, "download/blob");
        long total = 0;
        int read;
        while ((read = await download.Content.ReadAsync(_readBuffer)) > 0)
        {
            total += read;
        }

        return total;
    }
}
