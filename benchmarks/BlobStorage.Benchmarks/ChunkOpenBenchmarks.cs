using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The read of a chunk whose file is not kept open, as the first read of a chunk just written is: the store opens the
/// file, reads and checks its header and block table, then hands the range on. The chunks outnumber the files the store
/// keeps open (256), so every read of the cycle opens its file; the baseline reads sixteen chunks whose files stay open.
/// Reported per chunk read.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class ChunkOpenBenchmarks
{
    private const int Chunks = 1024;

    private string _root = "";
    private FileSystemChunkStore _store = null!;
    private ChunkReference[] _chunks = [];
    private int _next;

    /// <summary>The chunk's length in bytes.</summary>
    [Params(4 * 1024, 64 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-chunkopen-" + Guid.NewGuid().ToString("N"));
        _store = new FileSystemChunkStore(_root, PhysicalChunkFileSystem.Instance, BlockChunkFormat.DefaultBlockSize);
        _chunks = new ChunkReference[Chunks];
        var content = new byte[Size];
        for (var i = 0; i < Chunks; i++)
        {
            GeneratedStream.Fill(seed: (ulong)i + 1, position: 0, content);
            var id = ChunkId.Compute(content);
            await _store.WriteAsync(id, content);
            _chunks[i] = new ChunkReference(id, Size);
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>The same sixteen chunks every time, their files kept open.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 16)]
    public Task<long> ReadKeptOpen() => ReadSixteenAsync(i => _chunks[i]);

    /// <summary>Sixteen chunks, each the least recently read of the cycle.</summary>
    [Benchmark(OperationsPerInvoke = 16)]
    public Task<long> ReadNotKeptOpen() => ReadSixteenAsync(_ =>
    {
        var chunk = _chunks[_next];
        _next = (_next + 1) % Chunks;
        return chunk;
    });

    private async Task<long> ReadSixteenAsync(Func<int, ChunkReference> pick)
    {
        long total = 0;
        for (var i = 0; i < 16; i++)
        {
            var chunk = pick(i);
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
            await _store.ReadRangeAsync(chunk, 0, chunk.Length, pipe.Writer);
            await pipe.Writer.CompleteAsync();
            total += await ChunkReadBenchmarks.DrainAsync(pipe.Reader);
        }

        return total;
    }
}
