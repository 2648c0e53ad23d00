using BenchmarkDotNet.Attributes;
using BlobStorage.Metadata.Sqlite;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The first read of 64 KiB blobs just written (kept inline in the metadata database), most of them already copied
/// from the write-ahead log to the database by the automatic checkpoints of the puts, with the checkpoint's pages
/// written to the database one page a call (as SQLite does) or in runs (<see cref="BufferedVfs"/>): the kernel keeps
/// cached file bytes in folios as large as the writes that put them there, and a read out of small ones costs more.
/// Each iteration opens a new store and puts <see cref="Blobs"/> blobs untimed (64 MiB: about three checkpoints of
/// 4,000 pages); the benchmark reads each once.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class CheckpointedReadBenchmarks
{
    private const string Container = "bench";
    private const int Blobs = 1024;
    private const int Size = 64 * 1024;

    private string _root = "";
    private IBlobStore _store = null!;
    private string[] _names = [];

    /// <summary>Tasks reading at once.</summary>
    [Params(1, 8)]
    public int Tasks { get; set; }

    /// <summary>How the puts' checkpoints wrote the database: <c>page-by-page</c> or in <c>runs</c>.</summary>
    [Params("page-by-page", "runs")]
    public string Checkpoint { get; set; } = "runs";

    [IterationSetup]
    public void IterationSetup() => SetUpAsync().GetAwaiter().GetResult();

    [IterationCleanup]
    public void IterationCleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        BufferedVfs.CheckpointRuns = true;
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Reads every blob once, <see cref="Tasks"/> at a time; the time is per blob.</summary>
    [Benchmark(OperationsPerInvoke = Blobs)]
    public Task<long> FirstRead() => FirstReads.ReadEachOnceAsync(_store, Container, _names, Tasks, Size);

    private async Task SetUpAsync()
    {
        BufferedVfs.CheckpointRuns = Checkpoint == "runs";
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-checkpointed-" + Guid.NewGuid().ToString("N"));
        _store = await new BlobStoreBuilder(_root).OpenAsync();
        await _store.CreateContainerAsync(Container);
        _names = Enumerable.Range(0, Blobs).Select(i => $"medium/{i:D4}").ToArray();
        await Parallel.ForAsync(0, Blobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            using var content = new GeneratedStream(Size, seed: (ulong)i + 1);
            await _store.UploadAsync(Container, _names[i], content, cancellationToken: token);
        });
    }
}
