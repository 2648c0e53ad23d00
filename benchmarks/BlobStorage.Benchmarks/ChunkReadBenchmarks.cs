using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The chunk store's read path on one chunk in the page cache, for each chunk file format: a whole read into
/// a buffer, a whole range handed on through a pipe (as a download reads), and a one-byte range.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class ChunkReadBenchmarks
{
    private string _root = "";
    private FileSystemChunkStore _store = null!;
    private ChunkReference _chunk;
    private byte[] _buffer = [];

    /// <summary>The chunk file format: 1 (<c>BSCHUNK1</c>, one checksum) or 2 (<c>BSCHUNK2</c>, a checksum per 64 KiB block).</summary>
    [Params(1, 2)]
    public int Format { get; set; }

    /// <summary>The chunk's length in bytes.</summary>
    [Params(1024 * 1024, 4 * 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-chunkbench-" + Guid.NewGuid().ToString("N"));
        _store = new FileSystemChunkStore(_root, PhysicalChunkFileSystem.Instance, Format == 1 ? 0 : BlockChunkFormat.DefaultBlockSize);
        var content = new byte[Size];
        GeneratedStream.Fill(seed: 42, position: 0, content);
        var id = ChunkId.Compute(content);
        await _store.WriteAsync(id, content);
        _chunk = new ChunkReference(id, Size);
        _buffer = new byte[Size];
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>The whole chunk into one buffer (<see cref="IChunkStore.ReadAsync"/>).</summary>
    [Benchmark]
    public ValueTask<int> ReadWhole() => _store.ReadAsync(_chunk.Id, _buffer);

    /// <summary>The whole chunk through a pipe whose reader drains it as a download's stream does.</summary>
    [Benchmark]
    public async Task<long> RangeThroughPipe()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false));
        var drain = DrainAsync(pipe.Reader);
        await _store.ReadRangeAsync(_chunk, 0, _chunk.Length, pipe.Writer);
        await pipe.Writer.CompleteAsync();
        return await drain;
    }

    /// <summary>One byte from the middle of the chunk.</summary>
    [Benchmark]
    public async Task<long> OneByteRange()
    {
        var pipe = new Pipe();
        await _store.ReadRangeAsync(_chunk, _chunk.Length / 2, 1, pipe.Writer);
        await pipe.Writer.CompleteAsync();
        return await DrainAsync(pipe.Reader);
    }

    /// <summary>Reads a pipe to its end, counting the bytes; completes the reader.</summary>
    internal static async Task<long> DrainAsync(PipeReader reader)
    {
        long total = 0;
        while (true)
        {
            var result = await reader.ReadAsync();
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }

        await reader.CompleteAsync();
        return total;
    }
}
