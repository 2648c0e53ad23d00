using System.Buffers;
using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Internal;
using BlobStorage.Replication;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    // Read, hashed and written a slice at a time (a chunk's, when chunks are smaller). Measured in fresh processes, peak
    // working set of eight concurrent 64 MiB uploads: 1 MiB slices 105.4 MB, 512 KiB 100.3 MB, 256 KiB 97.4 MB; speed of one
    // 1 GiB upload: 256 KiB slices 1.27x the file store against 1.55x and 1.60x for 512 KiB and 1 MiB, and first reads of
    // what 256 KiB slices wrote were the slowest (0.44x against 0.57x at 1 GiB). 2 and 4 MiB slices, hashed and written
    // out of cache: 272 to 440 MB/s against 485 to 648 for 512 KiB.
    private const int StreamSliceSize = 512 * 1024;

    // Slices all streamed uploads together hold beyond each one's first, per core.
    private const int ExtraSlicesPerCore = 1;

    // Slices kept for reuse, per core; only slices in use at once are ever kept. Eight per core let eight uploads at once
    // on two cores take no new ones (ConcurrentUploadBenchmarks: 254.9 KB allocated a round against 3.26 MB and a gen2
    // collection every second round with two), but kept 3 MB more after them: the fresh-process peak of the 64 MiB gets
    // in compare went from 98.6 and 100.4 MB (two runs) to 102.0 MB, past the file store's 69.0 + 32.
    private const int RetainedSlicesPerCore = 2;

    /// <summary>
    /// Content that says it is no longer than this (two slices) is read whole, as where chunks are not streamed: one
    /// buffer of its size, one write, no hand-off per slice (measured: 1 MiB puts streamed in two slices 0.46x and 0.57x
    /// the file store against 0.62x and 0.74x read whole, with 1 and 8 tasks, in one compare run each). This is at least
    /// the inline threshold (at most 1 MiB), so content known to fit inline is read whole too.
    /// </summary>
    private long StreamMinimum => Math.Max(2L * _buffers.SliceSize, _options.InlineThreshold);

    // The most slices one upload holds: how far its reading runs ahead of its writes.
    private const int MaxSlicesAhead = 4;

    /// <summary>
    /// The chunk store an upload can write its chunks to as they stream: the only node of the default replicator,
    /// when that node takes drafts and the class keeps its chunks raw; else null, and chunks are written from memory.
    /// </summary>
    private IChunkStreamer? StreamerFor(StorageClass storageClass) =>
        _replicator is RendezvousReplicator { Nodes: [{ Store: IChunkStreamer streamer }] } && streamer.CanStream(storageClass) ? streamer : null;

    /// <summary>
    /// Streams content into chunks without holding a chunk in memory: the reading thread reads a slice and adds it
    /// to the blob's SHA-256 while the slices before it are added to their chunk's BLAKE3 hash and written to the
    /// chunk's draft on the thread pool (<see cref="SliceQueue"/>). At a chunk's end the same chain, after the chunk's
    /// last slice, names, pins and commits it to its file (<see cref="CommitStreamedAsync"/>) while this thread reads
    /// the next chunk, and the chunk is made durable in the background (at most <see cref="MaxChunksFlushing"/> at
    /// once). A chunk that holds the whole content is named by the blob's SHA-256, as <see cref="WriteContentAsync"/>
    /// names it; content that ends within its first slice and is no larger than the inline threshold is kept whole for
    /// the metadata store.
    /// </summary>
    private async Task<WrittenContent> WriteStreamedAsync(
        Stream content,
        long? known,
        IChunkStreamer streamer,
        ChunkPlacement placement,
        WrittenContent result,
        IncrementalHash blobHash,
        IProgress<long>? progress,
        long maxSize,
        bool allowInline,
        CancellationToken cancellationToken)
    {
        var chunkSize = _options.ChunkSize;
        var slices = new SliceQueue(_buffers);
        StreamedChunk? chunk = null;

        var flushing = new Queue<Task>();
        var chunks = 0;
        var named = false;
        try
        {
            var ended = false;
            while (!ended)
            {
                var inChunk = 0;
                while (inChunk < chunkSize)
                {
                    var buffer = await slices.NextAsync().ConfigureAwait(false);
                    var room = Math.Min(buffer.Length, chunkSize - inChunk);
                    var read = await ReadHashedAsync(content, buffer.AsMemory(0, room), blobHash, cancellationToken).ConfigureAwait(false);
                    if (result.Size == 0 && allowInline && read <= _options.InlineThreshold && read <= maxSize)
                    {
                        // A full first slice may be the whole content (a threshold as large as a slice): look one byte further.
                        var whole = read < room;
                        if (!whole) (whole, content) = await EndsHereAsync(content, cancellationToken).ConfigureAwait(false);
                        if (whole)
                        {
                            var kept = KeptInline(result, buffer.AsSpan(0, read), blobHash, progress);
                            slices.Unused(buffer);
                            return kept;
                        }
                    }

                    if (read == 0)
                    {
                        slices.Unused(buffer);
                        ended = true;
                        break;
                    }

                    result.Size += read;
                    if (result.Size > maxSize)
                    {
                        slices.Unused(buffer);
                        throw new ArgumentException($"The content is larger than the {maxSize} bytes allowed.", nameof(content));
                    }

                    // The first chunk of content that says it is shorter than a chunk is named by the blob's SHA-256: no BLAKE3 pass.
                    chunk ??= new StreamedChunk(
                        streamer.Begin(placement.StorageClass, (int)Math.Min(chunkSize, known is { } length ? Math.Max(0, length - (result.Size - read)) : chunkSize)),
                        nameByBlake3: !(chunks == 0 && known < chunkSize));
                    slices.Write(chunk, buffer, read);
                    inChunk += read;
                    if (read < room)
                    {
                        ended = true;
                        break;
                    }
                }

                if (chunk is null) break;
                if (chunks == 0 && inChunk < chunkSize)
                {
                    // The whole content in one chunk: named by its SHA-256, the content hash, once every slice is in it.
                    await slices.DrainAsync().ConfigureAwait(false);
                    var id = new ChunkId(blobHash.GetHashAndReset());
                    result.ContentHash = id.ToString();
                    named = true;
                    var spent = chunk;
                    chunk = null;
                    await CommitStreamedAsync(spent, id, inChunk, result, flushing, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // Named and committed on the write chain after its last slice, while this thread reads the next chunk.
                    var spent = chunk;
                    var length = inChunk;
                    chunk = null;
                    slices.Then(() => CommitStreamedAsync(spent, id: null, length, result, flushing, cancellationToken), spent);
                }

                chunks++;
                progress?.Report(result.Size);
            }

            await slices.DrainAsync().ConfigureAwait(false);

            // The commit that follows may refer to the chunks only once every one of them is durable.
            while (flushing.Count > 0)
            {
                await flushing.Dequeue().ConfigureAwait(false);
            }

            if (!named) result.ContentHash = Convert.ToHexStringLower(blobHash.GetHashAndReset());
            return result;
        }
        catch
        {
            // The slices in flight finish before their buffers go back and their draft is removed.
            await slices.DrainAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            chunk?.Dispose();

            // Flushes still running finish before the chunks are unpinned and handed to the collector as suspects.
            await Task.WhenAll(flushing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            _leases.UnpinAll(result.Pinned);
            AddSuspects(result.Pinned);
            throw;
        }
        finally
        {
            slices.Dispose();
        }
    }

    /// <summary>
    /// Names a streamed chunk whose slices are all written (by <paramref name="id"/>, or else its BLAKE3 hash), pins it,
    /// commits it to its file and adds it to <paramref name="result"/>; its flush runs on, at most
    /// <see cref="MaxChunksFlushing"/> at once. Runs on the upload's write chain, or on the reading thread once that
    /// chain is drained, so one at a time, in the chunks' order.
    /// </summary>
    private async Task CommitStreamedAsync(StreamedChunk spent, ChunkId? id, int length, WrittenContent result, Queue<Task> flushing, CancellationToken cancellationToken)
    {
        Task? durable;
        using (spent)
        {
            var name = id ?? spent.Name();
            await _leases.PinAsync(name, cancellationToken).ConfigureAwait(false);
            result.Pinned.Add(name);
            durable = await spent.Draft.CommitAsync(name, cancellationToken).ConfigureAwait(false);
            result.Chunks.Add(new ChunkReference(name, length));
        }

        if (durable is not null) flushing.Enqueue(durable);
        while (flushing.Count > MaxChunksFlushing)
        {
            await flushing.Dequeue().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The slices of one streamed upload and their writes: each slice is handed to its chunk on the thread pool after
    /// every slice before it, so the reading thread runs ahead by as many slices as the upload holds. It holds one, and
    /// up to <see cref="MaxSlicesAhead"/> while the pool's allowance has room (<see cref="ChunkBufferPool.TryTakeExtraSlice"/>);
    /// without a free slice it waits for its oldest write.
    /// </summary>
    private sealed class SliceQueue(ChunkBufferPool pool) : IDisposable
    {
        private readonly Stack<byte[]> _free = new();
        private readonly Queue<(Task Written, byte[] Buffer)> _pending = new();
        private Task _tail = Task.CompletedTask;
        private int _held;
        private int _extras;

        /// <summary>A slice to read into: a free one, a new one while there is room, else the oldest once written.</summary>
        public async ValueTask<byte[]> NextAsync()
        {
            if (_free.TryPop(out var free)) return free;
            if (_held == 0 || (_held < MaxSlicesAhead && pool.TryTakeExtraSlice()))
            {
                if (_held > 0) _extras++;
                _held++;
                return pool.RentSlice();
            }

            var (written, buffer) = _pending.Dequeue();
            try
            {
                await written.ConfigureAwait(false);
            }
            finally
            {
                _free.Push(buffer);
            }

            return _free.Pop();
        }

        /// <summary>Takes back a slice from <see cref="NextAsync"/> that was not handed on.</summary>
        public void Unused(byte[] buffer) => _free.Push(buffer);

        /// <summary>Hands <paramref name="length"/> bytes of a slice to <paramref name="chunk"/>, after every slice handed on before.</summary>
        public void Write(StreamedChunk chunk, byte[] buffer, int length)
        {
            // No cancellation token: a write cancelled before it ran would end before the writes ahead of it, and their
            // slices would go back to the pool while still being read. A write after a failed one fails without running.
            var previous = _tail;
            var slice = buffer.AsMemory(0, length);
            _tail = Task.Run(async () =>
            {
                await previous.ConfigureAwait(false);
                chunk.Take(slice);
            });
            _pending.Enqueue((_tail, buffer));
        }

        /// <summary>
        /// Runs <paramref name="work"/> after every slice handed on so far is written; the slices handed on next wait for
        /// it. When an earlier write failed it does not run, and <paramref name="skipped"/> is disposed instead.
        /// </summary>
        public void Then(Func<Task> work, IDisposable skipped)
        {
            var previous = _tail;
            _tail = Task.Run(async () =>
            {
                try
                {
                    await previous.ConfigureAwait(false);
                }
                catch
                {
                    skipped.Dispose();
                    throw;
                }

                await work().ConfigureAwait(false);
            });
        }

        /// <summary>Waits until every slice handed on is written (throwing the first failure); their buffers are free again either way.</summary>
        public async Task DrainAsync()
        {
            try
            {
                await _tail.ConfigureAwait(false);
            }
            finally
            {
                while (_pending.TryDequeue(out var pending)) _free.Push(pending.Buffer);
            }
        }

        /// <summary>Gives every slice and the allowance taken back to the pool; only once every write has ended.</summary>
        public void Dispose()
        {
            while (_free.TryPop(out var buffer)) pool.ReturnSlice(buffer);
            for (; _extras > 0; _extras--) pool.ReturnExtraSlice();
        }
    }

    /// <summary>A chunk being streamed: its draft and, unless the blob's SHA-256 will name it, its BLAKE3 hash so far.</summary>
    private sealed class StreamedChunk(ChunkDraft draft, bool nameByBlake3) : IDisposable
    {
        private Blake3Hasher? _hasher = nameByBlake3 ? new Blake3Hasher() : null;

        public ChunkDraft Draft { get; } = draft;

        /// <summary>Adds a slice to the hash and to the draft; one at a time, in order.</summary>
        public void Take(ReadOnlyMemory<byte> slice)
        {
            _hasher?.Update(slice.Span);
            Draft.Append(slice);
        }

        /// <summary>
        /// The chunk's BLAKE3 name. A chunk first thought to hold the whole content (its stream said it was shorter than
        /// a chunk, and then gave more) was not hashed as it passed: its bytes are read back from the draft.
        /// </summary>
        public ChunkId Name()
        {
            if (_hasher is null)
            {
                _hasher = new Blake3Hasher();
                var buffer = ArrayPool<byte>.Shared.Rent(StreamSliceSize);
                try
                {
                    for (long offset = 0; offset < Draft.Length;)
                    {
                        var read = Draft.ReadBack(offset, buffer);
                        if (read == 0) throw new BlobStorageException(BlobErrorCode.IOError, $"A chunk's temporary file gave back {offset} of the {Draft.Length} bytes written to it.");
                        _hasher.Update(buffer.AsSpan(0, read));
                        offset += read;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            Span<byte> hash = stackalloc byte[ChunkId.Size];
            _hasher.Finalize(hash);
            return new ChunkId(hash);
        }

        /// <summary>Drops the hash, and the draft unless it was committed.</summary>
        public void Dispose()
        {
            _hasher?.Dispose();
            _hasher = null;
            Draft.Dispose();
        }
    }
}
