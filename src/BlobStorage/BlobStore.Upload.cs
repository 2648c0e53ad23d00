using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using BlobStorage.Replication;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    private static readonly string EmptyContentHash = Convert.ToHexStringLower(SHA256.HashData([]));

    /// <summary>
    /// How many chunks of one upload may wait for their flush at once. Each holds an open file and,
    /// while it flushes, a thread-pool thread; several flushing together let the disk and its journal
    /// take them as one batch.
    /// </summary>
    private const int MaxChunksFlushing = 8;

    // Read and hashed at a time: well inside a core's L2 cache.
    private const int HashSliceSize = 128 * 1024;

    // Chunks written by uploads that then failed: the next maintenance pass checks whether anything refers to them.
    private readonly Lock _suspectsGate = new();
    private List<ChunkId> _suspects = [];

    // Unreferenced chunk files a sweep of the store found and kept (younger than the grace period, or too
    // many at once): checked again by each pass, under the same limit on how many may go at once.
    private List<ChunkId> _strays = [];

    public Task<BlobProperties> UploadAsync(string container, string name, PipeReader content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return UploadAsync(container, name, content.AsStream(leaveOpen: true), options, cancellationToken);
    }

    public async Task<BlobProperties> UploadAsync(string container, string name, Stream content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(content);
        options ??= DefaultUpload;
        var tags = MetadataRules.ValidateTags(options.Tags, "options.Tags");
        var metadata = MetadataRules.ValidateMetadata(options.Metadata, "options.Metadata");
        MetadataRules.ValidateContentType(options.ContentType);
        if (options.StorageClass is { } requestedClass) CheckDefined(requestedClass, "options.StorageClass");
        var expectedHash = ParseExpectedHash(options.ExpectedContentHash);
        if (!content.CanRead) throw new ArgumentException("The content stream cannot be read.", nameof(content));

        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);

        return await SentAgainWhenBusyAsync(
            content,
            container,
            name,
            () => UploadOnceAsync(container, name, content, options, tags, metadata, expectedHash, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>How many times an upload from a seekable stream is tried when the metadata store is busy with another process.</summary>
    private const int MaxBusyAttempts = 3;

    /// <summary>
    /// Runs one upload of <paramref name="content"/> (a blob or a part). With several processes on one metadata store, its
    /// commit can be refused because another process's transaction or collector won (StoreBusy, nothing changed): a stream
    /// that can go back to where it started is then sent again, as a cloud SDK retries a seekable body; any other is the
    /// caller's to send again.
    /// </summary>
    private async Task<T> SentAgainWhenBusyAsync<T>(Stream content, string container, string name, Func<Task<T>> upload)
    {
        var start = _metadata is IChunkCollectionGuard && content.CanSeek ? content.Position : -1;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await upload().ConfigureAwait(false);
            }
            catch (BlobStorageException ex) when (ex.ErrorCode == BlobErrorCode.StoreBusy && start >= 0 && attempt < MaxBusyAttempts)
            {
                Log.UploadRetried(_logger, container, name, attempt, ex.Message);
                content.Position = start;
            }
        }
    }

    private async Task<BlobProperties> UploadOnceAsync(
        string container,
        string name,
        Stream content,
        BlobUploadOptions options,
        IReadOnlyDictionary<string, string> tags,
        IReadOnlyDictionary<string, string> metadata,
        string? expectedHash,
        CancellationToken cancellationToken)
    {

        var containerProperties = await ContainerAsync(container, cancellationToken).ConfigureAwait(false);
        if (options.Conditions is { } conditions)
        {
            // Checked again, atomically, at commit; checking now spares streaming an upload that is bound to fail.
            var current = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false);
            conditions.Check(container, name, current?.Properties.ETag, current?.Properties.LastModified);
        }

        var progressed = options.Progress is { } progress ? new ProgressStream(content, progress, interval: Math.Min(ProgressStream.Interval, _options.ChunkSize)) : content;
        var written = await WriteContentAsync(progressed, new ChunkPlacement(containerProperties.ReplicationStrategy, options.StorageClass ?? containerProperties.DefaultStorageClass), progress: null, cancellationToken).ConfigureAwait(false);
        try
        {
            if (expectedHash is not null && expectedHash != written.ContentHash)
            {
                throw new BlobStorageException(
                    BlobErrorCode.ContentHashMismatch,
                    $"Blob '{name}' in container '{container}' was not stored: its content has SHA-256 {written.ContentHash}, not the expected {expectedHash}.");
            }

            var now = _time.GetUtcNow();
            var record = new BlobRecord(
                new BlobProperties
                {
                    Container = container,
                    Name = name,
                    VersionId = Identifiers.NewVersionId(now),
                    Size = written.Size,
                    ContentType = options.ContentType ?? "application/octet-stream",
                    ETag = Identifiers.NewETag(),
                    ContentHash = written.ContentHash,
                    StorageClass = options.StorageClass ?? containerProperties.DefaultStorageClass,
                    CreatedOn = now,
                    LastModified = now,
                    Tags = tags,
                    Metadata = metadata,
                },
                written.Chunks)
            {
                InlineContent = written.Inline,
            };
            var stored = _metadata is IChunkCollectionGuard guard && written.CollectionEpoch is { } epoch
                ? await guard.CommitBlobAsync(record, options.Conditions, epoch, cancellationToken).ConfigureAwait(false)
                : await _metadata.CommitBlobAsync(record, options.Conditions, cancellationToken).ConfigureAwait(false);
            CrashPoints.Reach(CrashPoints.Committed);
            if (written.Owed.Count > 0) ReplicateSoon();
            _telemetry.Write(written.Size);
            await InvalidateEdgesAsync(container, name).ConfigureAwait(false);
            return stored.Properties;
        }
        catch
        {
            // Every chunk it touched, not only those it wrote: another failed upload may have written one it found.
            AddSuspects(written.Pinned);
            throw;
        }
        finally
        {
            _leases.UnpinAll(written.Pinned);
            written.ReturnInline();
        }
    }

    private sealed class WrittenContent
    {
        public List<ChunkReference> Chunks { get; } = [];

        public List<ChunkId> Pinned { get; } = [];

        /// <summary>The metadata store's collection epoch read before the first chunk was looked at (see <see cref="IChunkCollectionGuard"/>); null when the store has none.</summary>
        public long? CollectionEpoch { get; set; }

        public long Size { get; set; }

        public string ContentHash { get; set; } = EmptyContentHash;

        /// <summary>Copies the chunks still owe to nodes: queued before the commit.</summary>
        public List<ReplicaWork> Owed { get; } = [];

        // A small blob's content, in an array rented from the shared pool: no array a put (a 64 KiB put allocated its
        // size every time, and the garbage grew the working set by the collector's whole budget).
        private byte[]? _inline;
        private int _inlineLength;

        /// <summary>The whole content of a blob small enough to live in the metadata store, or null; valid until <see cref="ReturnInline"/>.</summary>
        public ReadOnlyMemory<byte>? Inline => _inline is { } buffer ? (ReadOnlyMemory<byte>?)buffer.AsMemory(0, _inlineLength) : null;

        /// <summary>Keeps <paramref name="bytes"/> as the whole content, copied into a rented array.</summary>
        public void KeepInline(ReadOnlySpan<byte> bytes)
        {
            var buffer = bytes.IsEmpty ? [] : ArrayPool<byte>.Shared.Rent(bytes.Length);
            bytes.CopyTo(buffer);
            _inline = buffer;
            _inlineLength = bytes.Length;
        }

        /// <summary>Gives the inline content's array back, once the commit no longer reads it.</summary>
        public void ReturnInline()
        {
            if (_inline is { Length: > 0 } buffer) ArrayPool<byte>.Shared.Return(buffer);
            _inline = null;
        }
    }

    /// <summary>
    /// Streams content into chunks. Content that is not known to be small goes to <see cref="WriteStreamedAsync"/> where
    /// the chunk store takes chunks as they stream (one chunk folder, a class kept raw); the rest is read a chunk at a
    /// time, as follows. The reading thread reads a chunk and adds it to the blob's
    /// SHA-256 while earlier chunks are named (BLAKE3, see <see cref="ChunkId"/>) and written on the thread
    /// pool, so reading, the two hashes and the disk overlap; at most <c>UploadConcurrency + 1</c> chunk buffers exist at once for one upload, the
    /// ones beyond its first only while the pool's allowance has room (<see cref="ChunkBufferPool.TryTakeUploadExtra"/>).
    /// Every chunk is pinned before its file is checked or written; the caller unpins after commit.
    /// Content that ends within the first read and is no larger than the inline threshold is kept
    /// whole for the metadata store instead: one transaction, no chunk file.
    /// </summary>
    private async Task<WrittenContent> WriteContentAsync(Stream content, ChunkPlacement placement, IProgress<long>? progress, CancellationToken cancellationToken, long maxSize = long.MaxValue, bool allowInline = true)
    {
        allowInline &= _options.InlineThreshold > 0 && MayInline(placement);
        var chunkSize = _options.ChunkSize;
        var result = new WrittenContent();

        // Read before any chunk is checked or written: a commit whose chunks were being removed by another process since is refused.
        if (_metadata is IChunkCollectionGuard guard) result.CollectionEpoch = await guard.GetCollectionEpochAsync(cancellationToken).ConfigureAwait(false);
        using var blobHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var stated = RemainingLength(content);

        // Content known to be small is read whole, as below; anything else streams, where the chunk store can take it so.
        if (StreamerFor(placement.StorageClass) is { } streamer && !(stated <= StreamMinimum))
        {
            return await WriteStreamedAsync(content, stated, streamer, placement, result, blobHash, progress, maxSize, allowInline, cancellationToken).ConfigureAwait(false);
        }

        var inflight = new Queue<(Task<StoredChunk> Task, byte[] Buffer)>();
        var flushing = new Queue<Task>();
        var named = false;

        // A stream that knows its length needs a first buffer only that long (and a byte more, to see its end): a small
        // blob then takes a small array, not a chunk's.
        var firstSize = stated is { } left && left < chunkSize ? (int)left + 1 : chunkSize;

        // Chunk buffers held beyond the first, each with room taken from the pool's shared allowance.
        var extras = 0;
        try
        {
            while (true)
            {
                // Another buffer while earlier chunks are written only with room to spare; else the oldest write frees one.
                while (inflight.Count > 0 && !_buffers.TryTakeUploadExtra())
                {
                    await TakeWrittenChunkAsync(inflight, flushing, result).ConfigureAwait(false);
                    ReturnExtra(ref extras);
                }

                if (inflight.Count > 0) extras++;
                var size = result.Size == 0 ? firstSize : chunkSize;
                var buffer = _buffers.RentArray(size);
                int read;
                try
                {
                    read = await ReadHashedAsync(content, buffer.AsMemory(0, size), blobHash, cancellationToken).ConfigureAwait(false);
                    if (read == size && size < chunkSize)
                    {
                        // The stream holds more than its length said: the rest of the chunk goes into a whole chunk's buffer.
                        var whole = _buffers.RentArray(chunkSize);
                        buffer.AsSpan(0, read).CopyTo(whole);
                        _buffers.ReturnArray(buffer);
                        buffer = whole;
                        read += await ReadHashedAsync(content, buffer.AsMemory(read, chunkSize - read), blobHash, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch
                {
                    _buffers.ReturnArray(buffer);
                    throw;
                }

                if (read == 0)
                {
                    _buffers.ReturnArray(buffer);
                    if (result.Size == 0 && allowInline) result.KeepInline([]);
                    break;
                }

                var isOnlyChunk = result.Size == 0 && read < chunkSize;
                if (result.Size == 0 && read == chunkSize && allowInline && read <= _options.InlineThreshold)
                {
                    // A full first read may be the whole content (threshold equal to the chunk size): look one byte further.
                    (isOnlyChunk, content) = await EndsHereAsync(content, cancellationToken).ConfigureAwait(false);
                }

                if (isOnlyChunk && allowInline && read <= _options.InlineThreshold && read <= maxSize)
                {
                    var kept = KeptInline(result, buffer.AsSpan(0, read), blobHash, progress);
                    _buffers.ReturnArray(buffer);
                    return kept;
                }

                result.Size += read;
                if (result.Size > maxSize)
                {
                    _buffers.ReturnArray(buffer);
                    throw new ArgumentException($"The content is larger than the {maxSize} bytes allowed.", nameof(content));
                }

                progress?.Report(result.Size);

                // A blob of one chunk names that chunk by its SHA-256, its content hash: no second pass over its bytes.
                ChunkId? known = null;
                if (isOnlyChunk)
                {
                    known = new ChunkId(blobHash.GetHashAndReset());
                    result.ContentHash = known.Value.ToString();
                    named = true;
                }

                inflight.Enqueue((Task.Run(() => StoreChunkAsync(buffer, read, known, placement, result, cancellationToken), cancellationToken), buffer));

                while (inflight.Count > _options.UploadConcurrency)
                {
                    await TakeWrittenChunkAsync(inflight, flushing, result).ConfigureAwait(false);
                    ReturnExtra(ref extras);
                }

                if (read < chunkSize) break;
            }

            while (inflight.Count > 0)
            {
                await TakeWrittenChunkAsync(inflight, flushing, result).ConfigureAwait(false);
                ReturnExtra(ref extras);
            }

            // The commit that follows may refer to the chunks only once every one of them is durable.
            while (flushing.Count > 0)
            {
                await flushing.Dequeue().ConfigureAwait(false);
            }

            // So are the copies still owed (other regions, a local node that failed): queued before the commit.
            await EnqueueOwedAsync(result.Owed, cancellationToken).ConfigureAwait(false);

            if (!named) result.ContentHash = Convert.ToHexStringLower(blobHash.GetHashAndReset());
            return result;
        }
        catch
        {
            while (inflight.Count > 0)
            {
                var (task, done) = inflight.Dequeue();
                try
                {
                    flushing.Enqueue((await task.ConfigureAwait(false)).Durable);
                }
                catch (Exception)
                {
                    // The first failure is the one reported; the rest only need to finish before their buffers go back.
                }
                finally
                {
                    _buffers.ReturnArray(done);
                }
            }

            while (extras > 0) ReturnExtra(ref extras);

            // Flushes still running finish before the chunks are unpinned and handed to the collector as suspects.
            await Task.WhenAll(flushing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _leases.UnpinAll(result.Pinned);
            AddSuspects(result.Pinned);
            throw;
        }
    }

    /// <summary>After a chunk buffer went back: the room of one extra buffer, if this upload holds any, goes back too.</summary>
    private void ReturnExtra(ref int extras)
    {
        if (extras == 0) return;
        extras--;
        _buffers.ReturnUploadExtra();
    }

    /// <summary>
    /// Waits for the oldest chunk write, records the chunk and gives its buffer back; then, while more
    /// than <see cref="MaxChunksFlushing"/> chunks wait for their flush, waits for the oldest of those.
    /// </summary>
    private async Task TakeWrittenChunkAsync(Queue<(Task<StoredChunk> Task, byte[] Buffer)> inflight, Queue<Task> flushing, WrittenContent result)
    {
        var (task, buffer) = inflight.Dequeue();
        try
        {
            var stored = await task.ConfigureAwait(false);
            result.Chunks.Add(stored.Reference);
            flushing.Enqueue(stored.Durable);
        }
        finally
        {
            _buffers.ReturnArray(buffer);
        }

        while (flushing.Count > MaxChunksFlushing)
        {
            await flushing.Dequeue().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Hashes and pins a chunk and hands its bytes to the replicator. Returns once the buffer is free,
    /// with a task that ends when the chunk is durable: the default replicator flushes chunk files in
    /// the background, so the upload's next chunks are hashed and written meanwhile.
    /// </summary>
    private async Task<StoredChunk> StoreChunkAsync(byte[] buffer, int length, ChunkId? known, ChunkPlacement placement, WrittenContent result, CancellationToken cancellationToken)
    {
        var id = known ?? ChunkId.ComputeBlake3(buffer.AsSpan(0, length));
        await _leases.PinAsync(id, cancellationToken).ConfigureAwait(false);
        lock (result) result.Pinned.Add(id);
        var content = buffer.AsMemory(0, length);
        Task durable;
        if (_replicator is RendezvousReplicator replicator)
        {
            var staged = await replicator.StageAsync(id, content, placement, cancellationToken).ConfigureAwait(false);
            durable = RecordOwedAsync(staged, new ChunkReference(id, length), result);
        }
        else
        {
            await _replicator.WriteAsync(id, content, placement, cancellationToken).ConfigureAwait(false);
            durable = Task.CompletedTask;
        }

        return new StoredChunk(new ChunkReference(id, length), durable);
    }

    private readonly record struct StoredChunk(ChunkReference Reference, Task Durable);

    /// <summary>Waits for a chunk's local copies and notes the copies it still owes.</summary>
    private async Task RecordOwedAsync(Task<StorageNode[]> staged, ChunkReference chunk, WrittenContent result)
    {
        var owed = await staged.ConfigureAwait(false);
        if (owed.Length == 0) return;
        var work = Owed(chunk, owed);
        lock (result) result.Owed.AddRange(work);
    }

    /// <summary>How many bytes a seekable stream says it has left; null when it cannot tell.</summary>
    private static long? RemainingLength(Stream content)
    {
        try
        {
            return content.CanSeek ? Math.Max(0, content.Length - content.Position) : null;
        }
        catch (Exception ex) when (ex is NotSupportedException or IOException or ObjectDisposedException)
        {
            // Reading the content reports what is wrong with it; the first buffer is then a whole chunk's.
            return null;
        }
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> from the stream (less only at its end) and adds every slice to the
    /// blob's hash as soon as it lands, while it is still in the core's cache: hashing a whole chunk after
    /// reading it took a second trip to memory, which on a machine with little memory bandwidth cost
    /// more than the hashing.
    /// </summary>
    private static async ValueTask<int> ReadHashedAsync(Stream content, Memory<byte> buffer, IncrementalHash blobHash, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var slice = buffer.Slice(filled, Math.Min(HashSliceSize, buffer.Length - filled));
            var read = await content.ReadAsync(slice, cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            blobHash.AppendData(slice.Span[..read]);
            filled += read;
        }

        return filled;
    }

    /// <summary>Whether the stream ends here: reads one byte ahead, and puts a byte it finds back in front of the rest.</summary>
    private static async ValueTask<(bool Ended, Stream Content)> EndsHereAsync(Stream content, CancellationToken cancellationToken)
    {
        var next = new byte[1];
        if (await content.ReadAsync(next, cancellationToken).ConfigureAwait(false) == 0) return (true, content);
        return (false, new PrependedStream(next[0], content));
    }

    /// <summary>Keeps the whole content (<paramref name="bytes"/>) for the metadata store: its bytes, size and content hash.</summary>
    private static WrittenContent KeptInline(WrittenContent result, ReadOnlySpan<byte> bytes, IncrementalHash blobHash, IProgress<long>? progress)
    {
        result.KeepInline(bytes);
        result.Size = bytes.Length;
        result.ContentHash = Convert.ToHexStringLower(blobHash.GetHashAndReset());
        progress?.Report(bytes.Length);
        return result;
    }

    /// <summary>A stream with one byte, read ahead, put back in front of the rest.</summary>
    private sealed class PrependedStream(byte first, Stream rest) : Stream
    {
        private bool _firstRead;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException("The stream is read forward only.");

        public override long Position { get => throw new NotSupportedException("The stream is read forward only."); set => throw new NotSupportedException("The stream is read forward only."); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty) return 0;
            if (_firstRead) return rest.Read(buffer);
            _firstRead = true;
            buffer[0] = first;
            return 1 + rest.Read(buffer[1..]);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty) return 0;
            if (_firstRead) return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _firstRead = true;
            buffer.Span[0] = first;
            return 1 + await rest.ReadAsync(buffer[1..], cancellationToken).ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("The stream is read forward only.");

        public override void SetLength(long value) => throw new NotSupportedException("The stream is read-only.");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The stream is read-only.");
    }

    private void AddSuspects(List<ChunkId> ids)
    {
        if (ids.Count == 0) return;
        lock (_suspectsGate) _suspects.AddRange(ids);
    }

    private void AddStrays(List<ChunkId> ids)
    {
        if (ids.Count == 0) return;
        lock (_suspectsGate) _strays.AddRange(ids);
    }

    private static string? ParseExpectedHash(string? hash)
    {
        if (hash is null) return null;
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"An expected content hash is a SHA-256 as 64 hexadecimal characters; '{(hash.Length > 80 ? hash[..80] + "…" : hash)}' is not.", "options.ExpectedContentHash");
        }

        return hash.ToLowerInvariant();
    }
}
