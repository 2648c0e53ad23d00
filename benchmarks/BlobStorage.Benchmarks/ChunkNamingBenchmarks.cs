using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// Naming one 4 MiB chunk, the work an upload does for every chunk of a blob of several chunks on top of the blob's
/// SHA-256: its SHA-256 (the baseline, every chunk's name before) against its BLAKE3 hash (the name now).
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class ChunkNamingBenchmarks
{
    private readonly byte[] _chunk = new byte[4 * 1024 * 1024];

    [GlobalSetup]
    public void GlobalSetup() => GeneratedStream.Fill(seed: 17, position: 0, _chunk);

    [Benchmark(Baseline = true)]
    public ChunkId Sha256Name() => ChunkId.Compute(_chunk);

    [Benchmark]
    public ChunkId Blake3Name() => ChunkId.ComputeBlake3(_chunk);
}
