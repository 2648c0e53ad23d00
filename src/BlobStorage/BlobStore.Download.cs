using System.Buffers;
using System.Runtime.InteropServices;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    public async Task<BlobDownload> DownloadAsync(string container, string name, BlobDownloadOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        options ??= DefaultDownload;
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return WithProgress(await DownloadCoreAsync(container, name, options, countRead: true, cancellationToken).ConfigureAwait(false), options);
    }

    /// <summary>A download; with <paramref name="countRead"/> false (an edge reading its origin, the read counted by the edge read instead) not counted.</summary>
    private async Task<BlobDownload> DownloadCoreAsync(string container, string name, BlobDownloadOptions options, bool countRead, CancellationToken cancellationToken)
    {

        while (true)
        {
            // A collection that ends between reading the record and pinning its chunks may have deleted
            // one of them (the blob overwritten and its old chunks past their grace period): then read again.
            var epoch = _leases.CollectionEpoch;
            var generation = _access.Generation;
            var (record, rented, rentedLength) = await ReadForDownloadAsync(container, name, cancellationToken).ConfigureAwait(false)
                ?? throw await NotFoundAsync(container, name, cancellationToken).ConfigureAwait(false);
            var properties = record.Properties;
            long offset, length;
            try
            {
                options.Conditions?.Check(container, name, properties.ETag, properties.LastModified);
                ThrowIfArchived(properties);
                CheckContentAddsUp(record, rented is null ? null : rentedLength);
                var size = properties.Size;
                (offset, length) = options.Range is { } range ? range.Resolve(size, container, name) : (0L, size);
                if (rented is not null || record.InlineContent is not null)
                {
                    // Verified by the metadata store as it read the row; served from memory (a rented array goes back when the stream is disposed).
                    var inlineProperties = await DownloadedPropertiesAsync(properties, generation, cancellationToken).ConfigureAwait(false);
                    Stream content = rented is not null
                        ? new PooledContentStream(rented, (int)offset, (int)length)
                        : InlineStream(record.InlineContent!.Value.Slice((int)offset, (int)length));
                    rented = null;
                    return new BlobDownload(countRead ? CountThisRead(inlineProperties, length) : inlineProperties, content, offset, length);
                }
            }
            finally
            {
                if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            }

            // The version being read keeps its chunks while the stream is open, even if the blob is overwritten or deleted.
            var pinned = new List<ChunkId>();
            try
            {
                foreach (var chunk in ChunksInRange(record.Chunks, offset, length))
                {
                    await _leases.PinAsync(chunk.Id, cancellationToken).ConfigureAwait(false);
                    pinned.Add(chunk.Id);
                }
            }
            catch
            {
                _leases.UnpinAll(pinned);
                throw;
            }

            if (_leases.CollectionEpoch != epoch)
            {
                _leases.UnpinAll(pinned);
                continue;
            }

            BlobProperties merged;
            try
            {
                merged = await DownloadedPropertiesAsync(properties, generation, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _leases.UnpinAll(pinned);
                throw;
            }

            ChunkRangeReader reader;
            try
            {
                reader = await ChunkReaderAsync(container, properties.StorageClass, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _leases.UnpinAll(pinned);
                throw;
            }

            var stream = new BlobContentStream(reader, _buffers, record.Chunks, offset, length, () => _leases.UnpinAll(pinned), ReadsRangesByBlock(properties.StorageClass));
            return new BlobDownload(countRead ? CountThisRead(merged, length) : merged, stream, offset, length);
        }
    }

    /// <summary>
    /// Whether a range of the class's chunks costs only the blocks it covers: the store's only node keeps them raw in
    /// chunk files (the streaming chunk store). A compressed class, or chunks on several nodes or in objects, may cost a
    /// whole chunk a range. Chunk files of the first format (<c>BSCHUNK1</c>, written before per-block checksums) are
    /// read whole for any range too; a store that still holds them pays that once per piece of a copy.
    /// </summary>
    private bool ReadsRangesByBlock(StorageClass storageClass) => StreamerFor(storageClass) is not null;

    /// <summary>The blob's record, with a small blob's content in a rented array when the metadata store can rent one.</summary>
    private async ValueTask<PooledBlobRecord?> ReadForDownloadAsync(string container, string name, CancellationToken cancellationToken)
    {
        if (_metadata is IPooledInlineSource pooled) return await pooled.GetBlobPooledAsync(container, name, cancellationToken).ConfigureAwait(false);
        return await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false) is { } record ? new PooledBlobRecord(record, null, 0) : null;
    }

    /// <summary>The properties a download reports, with exact access counts of the version it reads (this download not yet counted).</summary>
    private ValueTask<BlobProperties> DownloadedPropertiesAsync(BlobProperties properties, long generation, CancellationToken cancellationToken) =>
        _access.TryMerge(properties, generation, out var merged)
            ? ValueTask.FromResult(merged)
            : new ValueTask<BlobProperties>(CurrentPropertiesAsync(properties, cancellationToken));

    /// <summary>A flush overlapped the read: the properties read again, if they are still those of the version being read.</summary>
    private async Task<BlobProperties> CurrentPropertiesAsync(BlobProperties properties, CancellationToken cancellationToken)
    {
        try
        {
            var current = await PropertiesAsync(properties.Container, properties.Name, cancellationToken).ConfigureAwait(false);
            if (current.VersionId == properties.VersionId) return current;
        }
        catch (BlobStorageException)
        {
            // Overwritten or deleted meanwhile: the version being read keeps the counts read with it.
        }

        return properties;
    }

    /// <summary>Records this download and returns the properties with it counted.</summary>
    private BlobProperties CountThisRead(BlobProperties properties, long length)
    {
        var now = _time.GetUtcNow();
        if (_access.Record(properties.Container, properties.Name, properties.VersionId, length, now))
        {
            // Queued, not called: a write may run on the thread that starts it, and this download must not wait for that commit.
            ThreadPool.UnsafeQueueUserWorkItem(static store => _ = store.FlushAccessInBackgroundAsync(), this, preferLocal: false);
        }

        _telemetry.Read(length);
        return properties with
        {
            AccessCount = properties.AccessCount + 1,
            LastAccessedOn = properties.LastAccessedOn is { } last && last > now ? last : now,
        };
    }

    /// <summary>A read-only stream over inline content; its array itself when the memory is one (the stores' records are).</summary>
    private static MemoryStream InlineStream(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    /// <summary>
    /// The bytes a blob can deliver must be the bytes its properties declare: metadata that contradicts itself
    /// (a chunk list one entry short, inline content lost from its row, a size one byte off) is corruption,
    /// never a download that ends early without an error.
    /// </summary>
    private static void CheckContentAddsUp(BlobRecord record, int? rentedLength)
    {
        var properties = record.Properties;
        var (available, kept) = rentedLength is { } rented ? (rented, "inline")
            : record.InlineContent is { } inline ? (inline.Length, "inline")
            : (PackedChunkList.TotalOf(record.Chunks), record.Chunks.Count == 0 ? "no chunks, no inline content" : $"{record.Chunks.Count} chunk(s)");
        if (available != properties.Size)
        {
            throw new DataCorruptionException(
                $"Blob '{properties.Name}' in container '{properties.Container}' is damaged: its properties say {properties.Size} bytes, but its content ({kept}) holds {available}. Run VerifyAsync, and restore the blob from a backup or upload it again.");
        }
    }

    /// <summary>The chunks that hold bytes of the range, found by their lengths: a packed list makes only their ids.</summary>
    private static IEnumerable<ChunkReference> ChunksInRange(IReadOnlyList<ChunkReference> chunks, long offset, long length)
    {
        var end = offset + length;
        for (var i = PackedChunkList.IndexOf(chunks, offset, out var start); i < chunks.Count && start < end; i++)
        {
            var chunk = chunks[i];
            if (chunk.Length > 0) yield return chunk;
            start += chunk.Length;
        }
    }
}
