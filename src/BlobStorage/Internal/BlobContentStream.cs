using System.Buffers;
using System.IO.Pipelines;
using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// The stream a download returns. A producer reads whole chunks ahead into a <see cref="Pipe"/>,
/// each verified before it is made visible, so the caller never sees a byte that failed its
/// checksum; the pipe's pause threshold bounds the read-ahead to one chunk beyond the one being
/// read, so a download holds about two chunks of memory whatever the blob's size. A chunk read
/// whole lands straight in the pipe's memory, which comes from the store's <see cref="ChunkBufferPool"/>
/// (the buffers its uploads use): no copy between buffers, and no new buffers after an upload.
/// </summary>
internal sealed class BlobContentStream : Stream
{
    private readonly Pipe _pipe;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _producer;
    private readonly Action? _onClose;
    private readonly long _length;
    private long _position;
    private int _closed;

    public BlobContentStream(ChunkReader replicator, ChunkBufferPool buffers, IReadOnlyList<ChunkReference> chunks, long offset, long length, Action? onClose)
    {
        _length = length;
        _onClose = onClose;
        var largest = chunks.Count == 0 ? 4096 : chunks.Max(c => c.Length);
        _pipe = new Pipe(new PipeOptions(
            pool: buffers,
            pauseWriterThreshold: largest + 1L,
            resumeWriterThreshold: largest,
            minimumSegmentSize: 64 * 1024,
            useSynchronizationContext: false));
        _producer = Task.Run(() => ProduceAsync(replicator, buffers, chunks, offset, length, _pipe.Writer, _cts.Token));
    }

    private static async Task ProduceAsync(ChunkReader replicator, ChunkBufferPool buffers, IReadOnlyList<ChunkReference> chunks, long offset, long length, PipeWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            long chunkStart = 0, delivered = 0;
            var end = offset + length;
            foreach (var chunk in chunks)
            {
                var chunkEnd = chunkStart + chunk.Length;
                if (chunkEnd <= offset)
                {
                    chunkStart = chunkEnd;
                    continue;
                }

                if (chunkStart >= end) break;
                var from = (int)Math.Max(0, offset - chunkStart);
                var to = (int)Math.Min(chunk.Length, end - chunkStart);
                if (from == 0 && to == chunk.Length)
                {
                    var memory = writer.GetMemory(chunk.Length);
                    ExpectLength(chunk, await replicator(chunk.Id, memory[..chunk.Length], cancellationToken).ConfigureAwait(false));
                    writer.Advance(chunk.Length);
                    delivered += chunk.Length;
                }
                else
                {
                    // A chunk is verified whole; only the requested slice of it goes on.
                    var buffer = buffers.RentArray(chunk.Length);
                    try
                    {
                        ExpectLength(chunk, await replicator(chunk.Id, buffer.AsMemory(0, chunk.Length), cancellationToken).ConfigureAwait(false));
                        writer.Write(buffer.AsSpan(from, to - from));
                        delivered += to - from;
                    }
                    finally
                    {
                        buffers.ReturnArray(buffer);
                    }
                }

                var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted) return;
                chunkStart = chunkEnd;
            }

            if (delivered != length)
            {
                // The chunk list ends before the range does: a reader must never take a short read for the whole blob.
                throw new DataCorruptionException($"The blob's chunks hold {delivered} of the {length} bytes asked for; its chunk list or its size is wrong.");
            }

            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await writer.CompleteAsync(ex).ConfigureAwait(false);
        }
    }

    private static void ExpectLength(ChunkReference chunk, int read)
    {
        if (read != chunk.Length)
        {
            throw new DataCorruptionException($"Chunk {chunk.Id} holds {read} bytes where the blob's chunk list says {chunk.Length}.");
        }
    }

    public override bool CanRead => _closed == 0;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException("A blob download stream reads forward only; open a new download with a range to start elsewhere.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Synchronous callers block on the pipe; the producer runs on the thread pool, so this cannot deadlock.
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_closed != 0, this);
        if (buffer.IsEmpty) return 0;
        var reader = _pipe.Reader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var available = result.Buffer;
            if (!available.IsEmpty)
            {
                var count = (int)Math.Min(available.Length, buffer.Length);
                available.Slice(0, count).CopyTo(buffer.Span);
                reader.AdvanceTo(available.GetPosition(count));
                _position += count;
                return count;
            }

            reader.AdvanceTo(available.Start, available.End);
            if (result.IsCompleted || result.IsCanceled) return 0;
        }
    }

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed != 0, this);
        ArgumentNullException.ThrowIfNull(destination);
        var reader = _pipe.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    await destination.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }

                _position += result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) return;
            }
        }
        catch
        {
            // How much of the last buffer reached the destination is unknown, so the stream cannot read on
            // from a known place: it is closed (later reads throw ObjectDisposedException) and its chunks released.
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) =>
        throw new NotSupportedException("A blob download stream reads forward only; open a new download with a range to start elsewhere.");

    public override void SetLength(long value) => throw new NotSupportedException("A blob download stream is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A blob download stream is read-only.");

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _cts.Cancel();
            _pipe.Reader.Complete();
            // The producer ends on its own once cancelled; the pins it needs are released only then.
            _ = _producer.ContinueWith(
                static (_, state) =>
                {
                    var self = (BlobContentStream)state!;
                    self._cts.Dispose();
                    self._onClose?.Invoke();
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        base.Dispose(disposing);
    }

    /// <summary>Stops the read-ahead and waits for it, so the version's chunks are released when this returns.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            await _cts.CancelAsync().ConfigureAwait(false);
            await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await _producer.ConfigureAwait(false);
            _cts.Dispose();
            _onClose?.Invoke();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Reads one whole, verified chunk into the buffer and returns its length (a replicator's read, with the blob's placement).</summary>
internal delegate ValueTask<int> ChunkReader(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken);
