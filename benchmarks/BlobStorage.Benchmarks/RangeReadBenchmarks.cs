using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// One-byte ranges of large blobs, at pseudo-random offsets spread over <see cref="Blobs"/> blobs of different content
/// (as <c>compare</c>'s <c>range</c> reads them, copied into a sink): each range finds its chunk in the blob's chunk list (16 entries for
/// 64 MiB, 256 for 1 GiB) and reads and checks the one 64 KiB block that holds the byte, through a kept-open chunk file.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class RangeReadBenchmarks
{
    private const string Container = "bench";
    private const int Ranges = 4096;

    private string _root = "";
    private IBlobStore _store = null!;
    private string[] _names = [];

    /// <summary>The size of each blob, in bytes.</summary>
    [Params(64L << 20, 1L << 30)]
    public long Size { get; set; }

    /// <summary>Tasks reading at once.</summary>
    [Params(1, 8)]
    public int Tasks { get; set; }

    /// <summary>Blobs the ranges are spread over: 6 of 1 GiB hold 1,536 chunks, more than 1,024 (files kept open before they followed the descriptor limit).</summary>
    [Params(2, 6)]
    public int Blobs { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-rangebench-" + Guid.NewGuid().ToString("N"));
        _store = await new BlobStoreBuilder(_root).OpenAsync();
        await _store.CreateContainerAsync(Container);
        _names = Enumerable.Range(0, Blobs).Select(i => $"large/{i}").ToArray();
        for (var i = 0; i < Blobs; i++)
        {
            using var content = new GeneratedStream(Size, seed: (ulong)i + 1);
            await _store.UploadAsync(Container, _names[i], content);
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Reads <see cref="Ranges"/> one-byte ranges, <see cref="Tasks"/> at a time; the time is per range.</summary>
    [Benchmark(OperationsPerInvoke = Ranges)]
    public async Task<long> OneByteRange()
    {
        long total = 0;
        var next = -1;
        var workers = new Task[Tasks];
        for (var t = 0; t < Tasks; t++)
        {
            workers[t] = Task.Run(async () =>
            {
                var sink = new MemoryStream(1);
                int i;
                while ((i = Interlocked.Increment(ref next)) < Ranges)
                {
                    var offset = (long)((ulong)(i + 1) * 0x9E3779B97F4A7C15UL % (ulong)Size);
                    var options = new BlobDownloadOptions { Range = new BlobRange(offset, 1) };
                    await using var download = await _store.DownloadAsync(Container, _names[i % Blobs], options);
                    sink.Position = 0;
                    await download.Content.CopyToAsync(sink, 1);
                    Interlocked.Add(ref total, sink.Position);
                }
            });
        }

        await Task.WhenAll(workers);
        return total;
    }
}
