using System.IO.Hashing;
using BenchmarkDotNet.Attributes;
using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The checksum every block of a <c>BSCHUNK2</c> file carries, on one 64 KiB block in cache: System.IO.Hashing's
/// XxHash3 (the baseline) against <see cref="BlockChecksum"/>, the same XXH3-64 with one stripe per 512-bit register.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class BlockChecksumBenchmarks
{
    private readonly byte[] _block = new byte[BlockChunkFormat.DefaultBlockSize];

    [GlobalSetup]
    public void GlobalSetup() => GeneratedStream.Fill(seed: 16, position: 0, _block);

    [Benchmark(Baseline = true)]
    public ulong XxHash3Block() => XxHash3.HashToUInt64(_block);

    [Benchmark]
    public ulong BlockChecksumBlock() => BlockChecksum.Compute(_block);
}
