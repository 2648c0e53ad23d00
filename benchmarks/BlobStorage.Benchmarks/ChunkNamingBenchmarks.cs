using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage.Benchmarks;

/// <summary>
/// Naming one 4 MiB chunk, the work an upload does for every chunk of a blob of several chunks on top of the blob's
/// SHA-256: its SHA-256 (the baseline, every chunk's name before BLAKE3) against its BLAKE3 hash (the name now), whole
/// and as a streamed upload hands it over (512 KiB at a time), by the store's own BLAKE3 and by the Blake3 package.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class ChunkNamingBenchmarks
{
    private const int Slice = 512 * 1024;
    private readonly byte[] _chunk = new byte[4 * 1024 * 1024];
    private readonly byte[] _hash = new byte[Blake3Hasher.HashSize];

    [GlobalSetup]
    public void GlobalSetup() => GeneratedStream.Fill(seed: 17, position: 0, _chunk);

    [Benchmark(Baseline = true)]
    public ChunkId Sha256Name() => ChunkId.Compute(_chunk);

    [Benchmark]
    public ChunkId Blake3Name() => ChunkId.ComputeBlake3(_chunk);

    [Benchmark]
    public byte[] Blake3PackageName()
    {
        Blake3.Hasher.Hash(_chunk, _hash);
        return _hash;
    }

    [Benchmark]
    public byte[] Blake3Streamed()
    {
        using var hasher = new Blake3Hasher();
        for (var offset = 0; offset < _chunk.Length; offset += Slice) hasher.Update(_chunk.AsSpan(offset, Slice));
        hasher.Finalize(_hash);
        return _hash;
    }

    [Benchmark]
    public byte[] Blake3PackageStreamed()
    {
        using var hasher = Blake3.Hasher.New();
        for (var offset = 0; offset < _chunk.Length; offset += Slice) hasher.Update(_chunk.AsSpan(offset, Slice));
        hasher.Finalize(_hash);
        return _hash;
    }
}
