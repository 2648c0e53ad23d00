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
        using var activity = BlobStorageTelemetry.ActivitySource.StartActivity("BlobStorage.Download");
        activity?.SetTag("blobstorage.container", container);
        activity?.SetTag("blobstorage.blob", name);

        while (true)
        {
            // A collection that ends between reading the record and pinning its chunks may have deleted
            // one of them (the blob overwritten and its old chunks past their grace period): then read again.
            var epoch = _leases.CollectionEpoch;
            var record = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false)
                ?? throw await NotFoundAsync(container, name, cancellationToken).ConfigureAwait(false);
            var properties = record.Properties;
            options.Conditions?.Check(container, name, properties.ETag, properties.LastModified);
            var (offset, length) = options.Range is { } range ? range.Resolve(properties.Size, container, name) : (0L, properties.Size);

            if (record.InlineContent is { } inline)
            {
                // Verified by the metadata store as it read the row; served from memory.
                RecordRead(container, name, properties.VersionId, length);
                return new BlobDownload(_access.Merge(properties), new MemoryStream(inline, (int)offset, (int)length, writable: false), offset, length);
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

            var stream = new BlobContentStream(_replicator, record.Chunks, offset, length, () => _leases.UnpinAll(pinned));
            RecordRead(container, name, properties.VersionId, length);
            return new BlobDownload(_access.Merge(properties), stream, offset, length);
        }
    }

    private void RecordRead(string container, string name, string versionId, long length)
    {
        if (_access.Record(container, name, versionId, length, _time.GetUtcNow()))
        {
            _ = FlushAccessInBackgroundAsync();
        }

        _telemetry.Read(length);
    }

    private static IEnumerable<ChunkReference> ChunksInRange(IReadOnlyList<ChunkReference> chunks, long offset, long length)
    {
        long start = 0;
        foreach (var chunk in chunks)
        {
            var end = start + chunk.Length;
            if (end > offset && start < offset + length) yield return chunk;
            if (start >= offset + length) yield break;
            start = end;
        }
    }
}
