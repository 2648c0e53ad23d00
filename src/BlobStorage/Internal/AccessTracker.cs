using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// Gathers downloads per blob in memory and writes them to the metadata store in batches, so a
/// read never waits for a metadata write. Counts not yet written are merged into the properties
/// the store returns, so callers see them at once.
/// </summary>
internal sealed class AccessTracker : IDisposable
{
    private readonly Lock _gate = new();
    private Dictionary<(string Container, string Name, string VersionId), Entry> _pending = [];
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private readonly IMetadataStore _metadata;
    private readonly int _batchSize;

    public AccessTracker(IMetadataStore metadata, int batchSize)
    {
        _metadata = metadata;
        _batchSize = batchSize;
    }

    private sealed class Entry
    {
        public long Count;
        public long Bytes;
        public DateTimeOffset Last;
    }

    /// <summary>Records one download; true when the batch is full and should be flushed.</summary>
    public bool Record(string container, string name, string versionId, long bytes, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue((container, name, versionId), out var entry))
            {
                entry = new Entry();
                _pending[(container, name, versionId)] = entry;
            }

            entry.Count++;
            entry.Bytes += bytes;
            if (now > entry.Last) entry.Last = now;

            // Only the record that fills the batch asks for a flush; the ones after it ride along.
            return entry.Count == 1 && _pending.Count == _batchSize;
        }
    }

    /// <summary>Adds the downloads not yet written to the properties read from the metadata store.</summary>
    public BlobProperties Merge(BlobProperties properties)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue((properties.Container, properties.Name, properties.VersionId), out var entry)) return properties;
            return new BlobProperties
            {
                Container = properties.Container,
                Name = properties.Name,
                VersionId = properties.VersionId,
                Size = properties.Size,
                ContentType = properties.ContentType,
                ETag = properties.ETag,
                ContentHash = properties.ContentHash,
                StorageClass = properties.StorageClass,
                CreatedOn = properties.CreatedOn,
                LastModified = properties.LastModified,
                AccessCount = properties.AccessCount + entry.Count,
                LastAccessedOn = properties.LastAccessedOn is { } last && last > entry.Last ? last : entry.Last,
                Tags = properties.Tags,
                Metadata = properties.Metadata,
            };
        }
    }

    public void Dispose() => _flushLock.Dispose();

    /// <summary>Writes every pending count; on failure they are put back for the next flush.</summary>
    public async Task<long> FlushAsync(CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Dictionary<(string Container, string Name, string VersionId), Entry> batch;
            lock (_gate)
            {
                if (_pending.Count == 0) return 0;
                batch = _pending;
                _pending = [];
            }

            var accesses = batch.Select(p => new BlobAccess(p.Key.Container, p.Key.Name, p.Key.VersionId, p.Value.Count, p.Value.Bytes, p.Value.Last)).ToList();
            try
            {
                await _metadata.RecordAccessAsync(accesses, cancellationToken).ConfigureAwait(false);
                return accesses.Count;
            }
            catch
            {
                lock (_gate)
                {
                    foreach (var (key, entry) in batch)
                    {
                        if (_pending.TryGetValue(key, out var newer))
                        {
                            newer.Count += entry.Count;
                            newer.Bytes += entry.Bytes;
                            if (entry.Last > newer.Last) newer.Last = entry.Last;
                        }
                        else
                        {
                            _pending[key] = entry;
                        }
                    }
                }

                throw;
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }
}
