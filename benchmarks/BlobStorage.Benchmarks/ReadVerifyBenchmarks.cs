using BenchmarkDotNet.Attributes;
using BlobStorage.Chunks.FileSystem;
using Microsoft.Win32.SafeHandles;

namespace BlobStorage.Benchmarks;

/// <summary>
/// What verifying every block costs a read from the page cache: 64 MiB of a file in cache read whole, as the file
/// store reads (1 MiB per call, nothing checked: the baseline), against the chunk store's pattern (256 KiB per call,
/// then each 64 KiB block's <see cref="BlockChecksum"/>) and against 64 KiB per call (each block checked straight
/// after its own read). <c>VerifyOnlyInCache</c> checks the same bytes from a buffer that stays in the core's cache:
/// the price of the check alone. The gap between the first and the second row is the floor of a verified read.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class ReadVerifyBenchmarks
{
    private const int FileSize = 64 * 1024 * 1024;
    private const int Block = BlockChunkFormat.DefaultBlockSize;

    private string _path = "";
    private SafeFileHandle _file = null!;
    private byte[] _buffer = [];

    [GlobalSetup]
    public void GlobalSetup()
    {
        _path = Path.Combine(Path.GetTempPath(), "blobstorage-readverify-" + Guid.NewGuid().ToString("N"));
        var slice = new byte[1024 * 1024];
        using (var writer = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            // Written a megabyte at a time, as chunk files are, so the page cache holds it in the same folios.
            for (var offset = 0; offset < FileSize; offset += slice.Length)
            {
                GeneratedStream.Fill(seed: 21, position: offset, slice);
                writer.Write(slice);
            }

            writer.Flush(flushToDisk: true);
        }

        _file = File.OpenHandle(_path, FileMode.Open, FileAccess.Read);
        _buffer = GC.AllocateUninitializedArray<byte>(1024 * 1024, pinned: true);
        ReadOnly();
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _file.Dispose();
        File.Delete(_path);
    }

    /// <summary>1 MiB per call, nothing checked: the file store's read.</summary>
    [Benchmark(Baseline = true)]
    public long ReadOnly() => Read(1024 * 1024, verify: false);

    /// <summary>256 KiB per call, then each 64 KiB block checked: the chunk store's read.</summary>
    [Benchmark]
    public long Read256KiBThenVerify() => Read(BlockChunkFormat.ReadBatchSize, verify: true);

    /// <summary>64 KiB per call, each block checked straight after its read.</summary>
    [Benchmark]
    public long Read64KiBThenVerify() => Read(Block, verify: true);

    /// <summary>The check alone, 64 MiB of blocks from a 256 KiB buffer that stays in cache.</summary>
    [Benchmark]
    public ulong VerifyOnlyInCache()
    {
        ulong checksums = 0;
        for (var done = 0; done < FileSize; done += Block)
        {
            checksums ^= BlockChecksum.Compute(_buffer.AsSpan(done % BlockChunkFormat.ReadBatchSize, Block));
        }

        return checksums;
    }

    private long Read(int perCall, bool verify)
    {
        long total = 0;
        ulong checksums = 0;
        var buffer = _buffer.AsSpan(0, perCall);
        for (long offset = 0; offset < FileSize; offset += perCall)
        {
            var read = RandomAccess.Read(_file, buffer, offset);
            if (read != perCall) throw new InvalidOperationException($"Short read at {offset}: {read} bytes.");
            if (verify)
            {
                for (var block = 0; block < perCall; block += Block) checksums ^= BlockChecksum.Compute(buffer.Slice(block, Block));
            }

            total += read;
        }

        return total + (long)(checksums & 1);
    }
}
