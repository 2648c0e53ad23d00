using BenchmarkDotNet.Attributes;
using BlobStorage.Metadata.Sqlite;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The first read of small blobs just written (kept inline in the metadata database, still partly in its
/// write-ahead log), with 1 and 8 tasks, under two bounds on the reader connections: the bound before issue 16
/// (<c>Clamp(cores x 4, 8, 32)</c>) and one per core (<see cref="SqliteMetadataStore.ReaderCapacity"/>).
/// Each iteration opens a new store and puts <see cref="Blobs"/> blobs untimed; the benchmark reads each once.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class SmallReadBenchmarks
{
    private const string Container = "bench";
    private const int Blobs = 512;

    private string _root = "";
    private IBlobStore _store = null!;
    private SqliteMetadataStore _metadata = null!;
    private string[] _names = [];

    /// <summary>The size of each blob, in bytes.</summary>
    [Params(4 * 1024, 64 * 1024)]
    public int Size { get; set; }

    /// <summary>Tasks reading at once.</summary>
    [Params(1, 8)]
    public int Tasks { get; set; }

    /// <summary>The bound on reader connections: <c>before</c> (cores x 4, 8 to 32) or <c>per-core</c> (2 to 16).</summary>
    [Params("before", "per-core")]
    public string Readers { get; set; } = "per-core";

    [IterationSetup]
    public void IterationSetup() => SetUpAsync().GetAwaiter().GetResult();

    [IterationCleanup]
    public void IterationCleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _metadata.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Reads every blob once, <see cref="Tasks"/> at a time; the time is per blob.</summary>
    [Benchmark(OperationsPerInvoke = Blobs)]
    public Task<long> FirstRead() => FirstReads.ReadEachOnceAsync(_store, Container, _names, Tasks, Size);

    private async Task SetUpAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-smallread-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        var capacity = Readers == "before" ? Math.Clamp(Environment.ProcessorCount * 4, 8, 32) : SqliteMetadataStore.ReaderCapacity;
        _metadata = new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = Path.Combine(_root, "metadata.db") }, capacity);
        _store = await new BlobStoreBuilder(_root).UseMetadataStore(_metadata).OpenAsync();
        await _store.CreateContainerAsync(Container);
        _names = Enumerable.Range(0, Blobs).Select(i => $"small/{i:D4}").ToArray();
        await Parallel.ForAsync(0, Blobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            using var content = new GeneratedStream(Size, seed: (ulong)i + 1);
            await _store.UploadAsync(Container, _names[i], content, cancellationToken: token);
        });
    }
}
