using BenchmarkDotNet.Attributes;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>await download.Content.CopyToAsync(destination)</c> of a blob in the page cache, as users write it, into a
/// destination that counts the bytes and keeps the base <see cref="Stream.FlushAsync(CancellationToken)"/> (as most
/// user streams do, which runs each flush as a task on the thread pool). Measures what the copy's own flushes cost,
/// and, with 8 tasks, copies that each could read pieces on a second core while the others already keep every core busy.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class DownloadCopyBenchmarks
{
    private const string Container = "bench";

    private string _root = "";
    private IBlobStore _store = null!;

    /// <summary>The size of the blob, in bytes.</summary>
    [Params(1024 * 1024, 64 * 1024 * 1024)]
    public int Size { get; set; }

    /// <summary>Copies of the blob at once; the time is for all of them.</summary>
    [Params(1, 8)]
    public int Tasks { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-copybench-" + Guid.NewGuid().ToString("N"));
        _store = await new BlobStoreBuilder(_root).OpenAsync();
        await _store.CreateContainerAsync(Container);
        using var content = new GeneratedStream(Size, seed: 11);
        await _store.UploadAsync(Container, "blob", content);
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>The whole blob copied into the counting destination, by <see cref="Tasks"/> tasks at once.</summary>
    [Benchmark]
    public async Task<long> CopyTo()
    {
        if (Tasks == 1) return await CopyOnceAsync();
        var copies = new Task<long>[Tasks];
        for (var t = 0; t < copies.Length; t++) copies[t] = Task.Run(CopyOnceAsync);
        long total = 0;
        foreach (var copy in copies) total += await copy;
        return total;
    }

    private async Task<long> CopyOnceAsync()
    {
        var sink = new CountingSink();
        await using var download = await _store.DownloadAsync(Container, "blob");
        await download.Content.CopyToAsync(sink);
        return sink.Total;
    }

    private sealed class CountingSink : Stream
    {
        public long Total { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Total;

        public override long Position
        {
            get => Total;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Total += count;

        public override void Write(ReadOnlySpan<byte> buffer) => Total += buffer.Length;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Total += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
