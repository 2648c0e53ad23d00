using System.IO.Hashing;
using BenchmarkDotNet.Attributes;
using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The checksum every block of a <c>BSCHUNK2</c> file carries, on one 64 KiB block in cache: System.IO.Hashing's
/// XxHash3 (the baseline) against <see cref="BlockChecksum"/>, the same XXH3-64 with one stripe per 512-bit register
/// (or two 256-bit halves, the path of processors with AVX2 only);
/// and the read of an inline blob's content, a copy and its checksum, in two passes or in one.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class BlockChecksumBenchmarks
{
    private readonly byte[] _block = new byte[BlockChunkFormat.DefaultBlockSize];
    private readonly byte[] _copy = new byte[BlockChunkFormat.DefaultBlockSize];

    [GlobalSetup]
    public void GlobalSetup() => GeneratedStream.Fill(seed: 16, position: 0, _block);

    [Benchmark(Baseline = true)]
    public ulong XxHash3Block() => XxHash3.HashToUInt64(_block);

    [Benchmark]
    public ulong BlockChecksumBlock() => BlockChecksum.Compute(_block);

    /// <summary>The 256-bit path, which a processor with AVX2 and no AVX-512 takes.</summary>
    [Benchmark]
    public ulong BlockChecksum256Block() => BlockChecksum.HashLong256(_block);

    /// <summary>An inline blob's read before: copied out of SQLite's memory, then the copy hashed.</summary>
    [Benchmark]
    public ulong CopyThenXxHash3()
    {
        _block.CopyTo(_copy, 0);
        return XxHash3.HashToUInt64(_copy);
    }

    /// <summary>An inline blob's read now: copied and hashed in one pass.</summary>
    [Benchmark]
    public ulong CopyAndCompute() => BlockChecksum.CopyAndCompute(_block, _copy);

    /// <summary>The same on the 256-bit path.</summary>
    [Benchmark]
    public ulong CopyAndCompute256() => BlockChecksum.CopyAndCompute256(_block, _copy);
}
