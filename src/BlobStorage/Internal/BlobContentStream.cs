using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// The stream a download returns. Its bytes come through a <see cref="ChunkRangeReader"/> (the replicator's
/// <see cref="IReplicator.ReadRangeAsync"/>, with the blob's placement when it has one): a store
/// that keeps a checksum per block reads each block straight into the writer's memory, verifies it there
/// while it is in cache and only then advances it, so the caller never sees a byte that failed its
/// checksum, every byte is copied once from the kernel, and a range reads only the blocks it covers.
/// </summary>
/// <remarks>
/// <see cref="CopyToAsync(Stream, int, CancellationToken)"/>, the way most callers read a download, reads
/// on the caller's own task into a <see cref="PipeWriter"/> over the destination: no second thread, no
/// handoff per block, and the same few buffers, warm in cache, block after block. A copy of two chunks or
/// more reads two at a time instead, one on the caller's task and one on a pool thread, when no work waits
/// for the pool and fewer copies than half the cores do so (see <see cref="CopyTwoAtATimeAsync"/>). Reads of the stream
/// (<see cref="ReadAsync(Memory{byte}, CancellationToken)"/>) start a producer that reads ahead into a
/// <see cref="Pipe"/> whose pause threshold bounds the read-ahead to about a megabyte whatever the
/// blob's size (a store that can only read whole chunks adds one chunk).
/// </remarks>
internal sealed class BlobContentStream : Stream
{
    private const int ReadAhead = 1024 * 1024;
    private const int SegmentSize = 64 * 1024;

    // A store reads up to this much per call; one segment then takes it whole.
    private const int DirectSegmentSize = 256 * 1024;

    // A read with at least this much room takes its bytes straight from the store, with no read-ahead pipe (measured on a
    // 64 MiB get: 1 MiB reads 1.5 times as fast as through the pipe; 80 KiB reads slower, as each then pays a range
    // read's fixed cost, so they keep the read-ahead).
    private const int DirectReadMinimum = 256 * 1024;

    // Direct reads end on this boundary when they can (the block size of new chunks): the next read then starts
    // on a block, and no block is read and verified twice because two reads cut it.
    private const int DirectReadAlignment = 64 * 1024;

    // The parallel copy reads a chunk in pieces of at most ChunkBufferPool.PieceSize (a multiple of the block size), so
    // its three buffers are a megabyte each, not a chunk each: 4 MiB buffers for each download, kept by the store's pool after
    // the burst that needed them, were most of what a 64 MiB get added to the working set over the file store's.
    // The pieces of a copy shorter than two of those (a multiple of the block size, and the most one direct read takes):
    private const int SmallPieceSize = 256 * 1024;

    // A copy reads two chunks at once only while at most this many copies are under way (itself counted), so downloads
    // use a spare core, never more cores than there are: copies that did so are all still counted when the next one
    // checks, so no more than this many read two chunks at once.
    internal static readonly int ParallelCopyLimit = Math.Max(1, Environment.ProcessorCount / 2);
    private static int s_copies;

    private readonly ChunkRangeReader _reader;
    private readonly bool _readsRangesByBlock;
    private readonly ChunkBufferPool _buffers;
    private readonly IReadOnlyList<ChunkReference> _chunks;
    private readonly long _offset;
    private readonly CancellationTokenSource _cts = new();
    private readonly Action? _onClose;
    private readonly long _length;
    private Pipe? _pipe;
    private Task? _producer;
    private long _position;
    private int _closed;

    // The chunk that holds _position for direct reads, and where it starts in the blob.
    private int _chunkIndex;
    private long _chunkStart;

    /// <param name="reader">Reads a range of a chunk into a pipe writer, verified.</param>
    /// <param name="buffers">The store's buffers.</param>
    /// <param name="chunks">The blob's chunks, in order.</param>
    /// <param name="offset">Where the download starts in the blob.</param>
    /// <param name="length">How many bytes it gives.</param>
    /// <param name="onClose">Runs once when the stream closes (releases the chunks' pins).</param>
    /// <param name="readsRangesByBlock">
    /// Whether a range of a chunk costs only the blocks it covers (chunk files of the block format, on the store's only
    /// node): a copy may then read one chunk in pieces. Otherwise a range may cost the whole chunk (a chunk compressed
    /// at rest, another node's copy), and a copy reads each chunk's part in one call.
    /// </param>
    public BlobContentStream(ChunkRangeReader reader, ChunkBufferPool buffers, IReadOnlyList<ChunkReference> chunks, long offset, long length, Action? onClose, bool readsRangesByBlock = false)
    {
        _readsRangesByBlock = readsRangesByBlock;
        _reader = reader;
        _buffers = buffers;
        _chunks = chunks;
        _offset = offset;
        _length = length;
        _onClose = onClose;
    }

    /// <summary>Hands the range on to <paramref name="writer"/>, chunk by chunk, flushing after each; throws on any failure.</summary>
    private static async Task WriteRangeAsync(ChunkRangeReader reader, IReadOnlyList<ChunkReference> chunks, long offset, long length, PipeWriter writer, CancellationToken cancellationToken)
    {
        var parts = PartsOf(chunks, offset, length, out var covered);
        foreach (var part in parts)
        {
            await reader(part.Chunk, part.Offset, part.Count, writer, cancellationToken).ConfigureAwait(false);
            var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCompleted) return;
        }

        if (covered != length)
        {
            // The chunk list ends before the range does: a reader must never take a short read for the whole blob.
            throw new DataCorruptionException($"The blob's chunks hold {covered} of the {length} bytes asked for; its chunk list or its size is wrong.");
        }
    }

    /// <summary>The part of each chunk the range covers, in order; <paramref name="covered"/> falls short of the length when the chunk list does.</summary>
    /// <param name="chunks">The blob's chunks.</param>
    /// <param name="offset">Where the range starts in the blob.</param>
    /// <param name="length">The range's length.</param>
    /// <param name="covered">How much of the range the chunks hold.</param>
    /// <param name="pieceSize">The most one part may hold: a chunk's part larger than this is cut into several.</param>
    private static List<ChunkPart> PartsOf(IReadOnlyList<ChunkReference> chunks, long offset, long length, out long covered, int pieceSize = int.MaxValue)
    {
        var end = offset + length;
        var parts = new List<ChunkPart>();
        covered = 0;
        for (var i = PackedChunkList.IndexOf(chunks, offset, out var chunkStart); i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            var chunkEnd = chunkStart + chunk.Length;
            if (chunkStart >= end) break;
            if (chunkEnd > offset)
            {
                var from = (int)Math.Max(0, offset - chunkStart);
                var to = (int)Math.Min(chunk.Length, end - chunkStart);
                // Pieces end on multiples of the piece size within the chunk, so they start on blocks after the first.
                for (var piece = from; piece < to;)
                {
                    var pieceEnd = (int)Math.Min(to, ((piece / (long)pieceSize) + 1) * pieceSize);
                    parts.Add(new ChunkPart(chunk, piece, pieceEnd - piece));
                    piece = pieceEnd;
                }

                covered += to - from;
            }

            chunkStart = chunkEnd;
        }

        return parts;
    }

    private static async Task ProduceAsync(ChunkRangeReader reader, IReadOnlyList<ChunkReference> chunks, long offset, long length, PipeWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            await WriteRangeAsync(reader, chunks, offset, length, writer, cancellationToken).ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await writer.CompleteAsync(ex).ConfigureAwait(false);
        }
    }

    /// <summary>The read-ahead pipe, started on the first read.</summary>
    private PipeReader Reader()
    {
        if (_pipe is null)
        {
            _pipe = new Pipe(new PipeOptions(
                pool: _buffers,
                pauseWriterThreshold: ReadAhead,
                resumeWriterThreshold: ReadAhead / 2,
                minimumSegmentSize: SegmentSize,
                useSynchronizationContext: false));
            var writer = _pipe.Writer;
            _producer = Task.Run(() => ProduceAsync(_reader, _chunks, _offset + _position, _length - _position, writer, _cts.Token));
        }

        return _pipe.Reader;
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
        if (_position == _length) return 0;
        if (_pipe is null && buffer.Length >= DirectReadMinimum) return await ReadDirectAsync(buffer, cancellationToken).ConfigureAwait(false);
        var reader = Reader();
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

    /// <summary>
    /// Reads from the chunk that holds the position straight into <paramref name="buffer"/>: the store reads its blocks
    /// there and verifies them in place, so each byte is copied once from the kernel. On any failure the stream
    /// closes, as a failed copy does; a block that failed its check has been cleared from the buffer.
    /// </summary>
    private async ValueTask<int> ReadDirectAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var at = _offset + _position;
        while (_chunkIndex < _chunks.Count && _chunkStart + PackedChunkList.LengthAt(_chunks, _chunkIndex) <= at)
        {
            _chunkStart += PackedChunkList.LengthAt(_chunks, _chunkIndex);
            _chunkIndex++;
        }

        if (_chunkIndex == _chunks.Count)
        {
            await DisposeAsync().ConfigureAwait(false);
            throw new DataCorruptionException($"The blob's chunks end at byte {_chunkStart}, before the {_offset + _length} its size asks for; its chunk list or its size is wrong.");
        }

        var chunk = _chunks[_chunkIndex];
        var from = (int)(at - _chunkStart);
        var end = (int)Math.Min(chunk.Length, Math.Min(from + (long)buffer.Length, _offset + _length - _chunkStart));
        if (end < chunk.Length && end - (end % DirectReadAlignment) > from) end -= end % DirectReadAlignment;
        var writer = new BufferPipeWriter(buffer[..(end - from)]);
        try
        {
            await _reader(chunk, from, end - from, writer, cancellationToken).ConfigureAwait(false);
            if (writer.Written != end - from)
            {
                throw new DataCorruptionException($"Chunk {chunk.Id} handed on {writer.Written} of the {end - from} bytes asked for.");
            }
        }
        catch
        {
            // Where the failed read stopped is unknown to the caller: the stream cannot go on from a known place.
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _position += writer.Written;
        return writer.Written;
    }

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed != 0, this);
        ArgumentNullException.ThrowIfNull(destination);
        Interlocked.Increment(ref s_copies);
        try
        {
            // Two parts or more, all there (a chunk list that falls short is reported by the copy below).
            if (_pipe is null && PartsToCopy() is { Count: >= 2 } parts && CoreIsSpare())
            {
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token))
                {
                    await CopyTwoAtATimeAsync(parts, destination, linked.Token).ConfigureAwait(false);
                }

                _position = _length;
                return;
            }

            if (_pipe is null)
            {
                // Nothing read ahead: the rest goes from the store to the destination on this task.
                var writer = PipeWriter.Create(new WriteOnlyView(destination), new StreamPipeWriterOptions(pool: _buffers, minimumBufferSize: DirectSegmentSize, leaveOpen: true));
                try
                {
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
                    await WriteRangeAsync(_reader, _chunks, _offset + _position, _length - _position, writer, linked.Token).ConfigureAwait(false);
                    await writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // Buffered bytes were verified, but the copy has failed: they are dropped, not written.
                    await writer.CompleteAsync(ex).ConfigureAwait(false);
                    throw;
                }

                _position = _length;
                return;
            }

            var reader = _pipe.Reader;
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
        finally
        {
            Interlocked.Decrement(ref s_copies);
        }
    }

    /// <summary>
    /// The parts a parallel copy of the rest reads, or null when the rest is too short or the chunk list falls short of
    /// it. Where ranges cost only their blocks, parts are pieces of chunks, and a copy shorter than two large pieces goes
    /// in small ones, so that a blob of one chunk of a megabyte is read on two cores too; elsewhere a part is a chunk's
    /// whole share.
    /// </summary>
    private List<ChunkPart>? PartsToCopy()
    {
        var remaining = _length - _position;
        List<ChunkPart> parts;
        long covered;
        if (_readsRangesByBlock)
        {
            if (remaining < 2L * SmallPieceSize) return null;
            parts = PartsOf(_chunks, _offset + _position, remaining, out covered, remaining >= 2L * ChunkBufferPool.PieceSize ? ChunkBufferPool.PieceSize : SmallPieceSize);
        }
        else
        {
            if (_chunks.Count < 2) return null;
            parts = PartsOf(_chunks, _offset + _position, remaining, out covered);
        }

        return covered == remaining ? parts : null;
    }

    /// <summary>
    /// Whether a copy under way may use <see cref="CopyTwoAtATimeAsync"/>: false when more copies than half the cores
    /// are under way (this one counted) or when work already waits for the thread pool; then no core is spare, and a
    /// helper would only take turns with the other copies for one.
    /// </summary>
    private static bool CoreIsSpare() => Volatile.Read(ref s_copies) <= ParallelCopyLimit && ThreadPool.PendingWorkItemCount == 0;

    /// <summary>
    /// Copies two parts at a time (pieces of at most <see cref="ChunkBufferPool.PieceSize"/> of the chunks, or each chunk's
    /// whole part): this task reads and verifies the even parts (0, 2, 4, ...) into one buffer, a helper on the thread pool
    /// the odd ones into two buffers of its own, and the parts go to the destination in order. Verifying a block costs
    /// about as much as the kernel's copy of it (see <c>ReadVerifyBenchmarks</c>), so with a core to spare a large
    /// download runs up to twice as fast. Only verified bytes reach a buffer's written part, and a buffer reaches the
    /// destination only whole.
    /// </summary>
    /// <remarks>
    /// The helper goes from one odd part to the next without waiting to be woken, as long as one of its buffers is free:
    /// a part of a megabyte takes 40 to 80 us to read and verify, about what waking a parked pool thread costs on a small
    /// machine, so a helper started anew for every pair of parts left the second core idle half the time. See
    /// <see cref="OddParts"/> for who runs each odd part.
    /// </remarks>
    private async Task CopyTwoAtATimeAsync(List<ChunkPart> parts, Stream destination, CancellationToken cancellationToken)
    {
        var largest = 0;
        foreach (var part in parts) largest = Math.Max(largest, part.Count);
        var pieces = largest <= ChunkBufferPool.PieceSize;
        var mine = Rent();
        OddParts? odd = null;
        try
        {
            odd = new OddParts(this, parts, Rent(), Rent(), cancellationToken);
            odd.Start();
            for (var i = 0; i < parts.Count; i += 2)
            {
                var read = await ReadPartAsync(parts[i], mine, cancellationToken).ConfigureAwait(false);
                await destination.WriteAsync(mine.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                if (i + 1 < parts.Count)
                {
                    var (buffer, readAhead) = await odd.ResultAsync(i / 2).ConfigureAwait(false);
                    await destination.WriteAsync(buffer.AsMemory(0, readAhead), cancellationToken).ConfigureAwait(false);
                    odd.Written(i / 2);
                }
            }
        }
        finally
        {
            // The helper's buffers are its own until every odd part it started has ended, whatever ended this copy.
            if (odd is not null)
            {
                await odd.AbandonAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                Return(odd.First);
                Return(odd.Second);
            }

            Return(mine);
        }

        byte[] Rent() => pieces ? _buffers.RentPiece() : _buffers.RentArray(largest);

        void Return(byte[] buffer)
        {
            if (pieces) _buffers.ReturnPiece(buffer);
            else _buffers.ReturnArray(buffer);
        }
    }

    /// <summary>
    /// The odd parts of a parallel copy (1, 3, 5, ...; numbered here 0, 1, 2, ...), read in order into two buffers by
    /// turns. Part <c>k</c> may start once part <c>k - 1</c> has been read (one reader at a time) and part <c>k - 2</c>
    /// has been written to the destination (its buffer is free). Whoever gives the last of these runs it: the helper,
    /// on the thread it already has, when it finishes part <c>k - 1</c> after the copy has written <c>k - 2</c>; else a
    /// work item queued by the copy. And the copy runs a part itself when it needs the part and no one has started it,
    /// so a busy pool makes the copy sequential, never slower than one.
    /// </summary>
    private sealed class OddParts
    {
        private readonly BlobContentStream _stream;
        private readonly List<ChunkPart> _parts;
        private readonly CancellationToken _cancellationToken;
        private readonly TaskCompletionSource<int>[] _done;
        private readonly int[] _waitingFor;
        private readonly int[] _claimed;

        // About the time a part of a megabyte takes to read and verify.
        private static readonly TimeSpan SpinLimit = TimeSpan.FromMicroseconds(100);

        public OddParts(BlobContentStream stream, List<ChunkPart> parts, byte[] first, byte[] second, CancellationToken cancellationToken)
        {
            _stream = stream;
            _parts = parts;
            _cancellationToken = cancellationToken;
            First = first;
            Second = second;
            var count = parts.Count / 2;
            _done = new TaskCompletionSource<int>[count];
            _waitingFor = new int[count];
            _claimed = new int[count];
            for (var k = 0; k < count; k++)
            {
                _done[k] = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

                // Part 0 waits for nothing, part 1 only for part 0's read, the others for a read and a buffer.
                _waitingFor[k] = Math.Min(k, 2);
            }
        }

        public byte[] First { get; }

        public byte[] Second { get; }

        /// <summary>Queues the first odd part, with the caller's execution context (the reads' logs and spans stay under the download's).</summary>
        public void Start()
        {
            if (_done.Length > 0) Queue(0);
        }

        /// <summary>Odd part <paramref name="k"/>'s buffer and length; runs the part on this thread if no one has started it.</summary>
        public async ValueTask<(byte[] Buffer, int Read)> ResultAsync(int k)
        {
            // By now parts k - 1 and k - 2 were read and written, so part k may start: if it has not, it runs here.
            // Else a helper has it under way on the other core: a moment's spin saves the wake-up of this continuation.
            if (Claim(k)) await RunAsync(k, goOn: false).ConfigureAwait(false);
            else SpinUntil(static (self, k) => self._done[k].Task.IsCompleted, k);
            return (BufferOf(k), await _done[k].Task.ConfigureAwait(false));
        }

        /// <summary>Odd part <paramref name="k"/> has reached the destination: its buffer may take part <c>k + 2</c>.</summary>
        public void Written(int k)
        {
            if (k + 2 < _done.Length && Interlocked.Decrement(ref _waitingFor[k + 2]) == 0) Queue(k + 2);
        }

        /// <summary>Ends when both buffers are free: parts not started never will be, parts started are waited for.</summary>
        public async Task AbandonAsync()
        {
            for (var k = 0; k < _done.Length; k++)
            {
                if (!Claim(k)) await ((Task)_done[k].Task).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        private byte[] BufferOf(int k) => k % 2 == 0 ? First : Second;

        /// <summary>
        /// Spins for at most <see cref="SpinLimit"/> while <paramref name="condition"/> is false: the other side is
        /// mid-part on the other core, and waking a parked thread costs as much as a part takes.
        /// </summary>
        private bool SpinUntil(Func<OddParts, int, bool> condition, int k)
        {
            if (condition(this, k)) return true;
            var start = Stopwatch.GetTimestamp();
            do
            {
                Thread.SpinWait(20);
                if (condition(this, k)) return true;
            }
            while (Stopwatch.GetElapsedTime(start) < SpinLimit);
            return false;
        }

        private bool Claim(int k) => Interlocked.Exchange(ref _claimed[k], 1) == 0;

        private void Queue(int k) =>
            ThreadPool.QueueUserWorkItem(static state => state.Self.Begin(state.K), (Self: this, K: k), preferLocal: false);

        private void Begin(int k)
        {
            if (Claim(k)) _ = RunAsync(k, goOn: true);
        }

        /// <summary>Reads odd part <paramref name="k"/>; with <paramref name="goOn"/>, then the next ones while they may start.</summary>
        private async Task RunAsync(int k, bool goOn)
        {
            while (true)
            {
                try
                {
                    _done[k].TrySetResult(await _stream.ReadPartAsync(_parts[(2 * k) + 1], BufferOf(k), _cancellationToken).ConfigureAwait(false));
                }
                catch (OperationCanceledException ex)
                {
                    _done[k].TrySetCanceled(ex.CancellationToken);
                    return;
                }
                catch (Exception ex)
                {
                    _done[k].TrySetException(ex);
                    return;
                }

                // Part k + 1 waited for this read; if its buffer is free too, it may start, here when this is the helper.
                // A helper whose next buffer is still being written out waits a moment for it rather than leave the
                // next part to a work item that must wake a thread.
                if (++k >= _done.Length) return;
                var mayStart = Interlocked.Decrement(ref _waitingFor[k]) == 0;
                if (!goOn)
                {
                    if (mayStart) Queue(k);
                    return;
                }

                if (!mayStart && !SpinUntil(static (self, k) => Volatile.Read(ref self._waitingFor[k]) == 0, k)) return;
                if (!Claim(k)) return;
            }
        }
    }

    private async Task<int> ReadPartAsync(ChunkPart part, byte[] buffer, CancellationToken cancellationToken)
    {
        var writer = new BufferPipeWriter(buffer.AsMemory(0, part.Count));
        await _reader(part.Chunk, part.Offset, part.Count, writer, cancellationToken).ConfigureAwait(false);
        if (writer.Written != part.Count)
        {
            throw new DataCorruptionException($"Chunk {part.Chunk.Id} handed on {writer.Written} of the {part.Count} bytes asked for.");
        }

        return part.Count;
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
            if (_producer is null)
            {
                _cts.Dispose();
                _onClose?.Invoke();
            }
            else
            {
                _pipe!.Reader.Complete();

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
        }

        base.Dispose(disposing);
    }

    /// <summary>Stops the read-ahead and waits for it, so the version's chunks are released when this returns.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            await _cts.CancelAsync().ConfigureAwait(false);
            if (_producer is not null)
            {
                await _pipe!.Reader.CompleteAsync().ConfigureAwait(false);
                await _producer.ConfigureAwait(false);
            }

            _cts.Dispose();
            _onClose?.Invoke();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// The destination of <see cref="BlobContentStream.CopyToAsync(Stream, int, CancellationToken)"/> as its pipe writer sees it:
/// writes go through, flushes do nothing. The writer flushes after every chunk to hand the bytes on, and a stream that
/// does not override <see cref="Stream.FlushAsync(CancellationToken)"/> runs each flush as a task on the thread pool:
/// a 64 MiB copy then hopped threads 256 times (16% of its time spent switching, 1.4 times as slow as without).
/// <see cref="Stream.CopyToAsync(Stream)"/> never flushes its destination either.
/// </summary>
internal sealed class WriteOnlyView(Stream destination) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => destination.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => destination.Write(buffer);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        destination.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        destination.WriteAsync(buffer, cancellationToken);
}

/// <summary>The part of one chunk a copy reads: <paramref name="Count"/> bytes from <paramref name="Offset"/>.</summary>
internal readonly record struct ChunkPart(ChunkReference Chunk, int Offset, int Count);

/// <summary>
/// Hands a verified range of one chunk on to a writer, as <see cref="IReplicator.ReadRangeAsync"/> does (a replicator's
/// range read, with the blob's placement): it may flush as it goes, never completes the writer, and stops early when the
/// pipe's reader has completed.
/// </summary>
internal delegate ValueTask ChunkRangeReader(ChunkReference chunk, int offset, int count, PipeWriter destination, CancellationToken cancellationToken);
