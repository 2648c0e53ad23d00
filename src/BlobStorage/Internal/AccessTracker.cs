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

    // The batch being written: still counted in properties until its transaction commits.
    private Dictionary<(string Container, string Name, string VersionId), Entry> _flushing = [];
    private long _generation;

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

    /// <summary>Counts flushes that have ended; read it before reading properties from the metadata store.</summary>
    public long Generation
    {
        get
        {
            lock (_gate) return _generation;
        }
    }

    /// <summary>
    /// Adds the downloads not yet written, and those of a batch being written, to properties read from
    /// the metadata store. A reader never blocks on a flush; the price is that a read landing between a
    /// batch's commit and the end of its flush call counts that batch twice, for that instant only.
    /// </summary>
    /// <remarks>Returns false, asking the caller to read again, when a flush ended since <paramref name="generation"/>: the read may have missed the counts it moved.</remarks>
    public bool TryMerge(BlobProperties properties, long generation, out BlobProperties merged)
    {
        lock (_gate)
        {
            merged = properties;
            if (generation != _generation) return false;
            merged = MergeLocked(properties);
            return true;
        }
    }

    /// <summary>
    /// <see cref="TryMerge"/> for a page of blobs, under one lock. When no download waits to be
    /// written, as is usual, the page is returned as it is, with no lookup per blob.
    /// </summary>
    public bool TryMergeAll(IReadOnlyList<BlobProperties> listed, long generation, out IReadOnlyList<BlobProperties> merged)
    {
        lock (_gate)
        {
            merged = listed;
            if (generation != _generation) return false;
            if (_pending.Count == 0 && _flushing.Count == 0) return true;
            var blobs = new BlobProperties[listed.Count];
            for (var i = 0; i < blobs.Length; i++) blobs[i] = MergeLocked(listed[i]);
            merged = blobs;
            return true;
        }
    }

    private BlobProperties MergeLocked(BlobProperties properties)
    {
        var key = (properties.Container, properties.Name, properties.VersionId);
        _pending.TryGetValue(key, out var pending);
        _flushing.TryGetValue(key, out var flushing);
        if (pending is null && flushing is null) return properties;
        return properties with
        {
            AccessCount = properties.AccessCount + (pending?.Count ?? 0) + (flushing?.Count ?? 0),
            LastAccessedOn = Latest(Latest(properties.LastAccessedOn, pending?.Last), flushing?.Last),
        };
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;

    public void Dispose() => _flushLock.Dispose();

    private void EndFlush()
    {
        lock (_gate)
        {
            _flushing = [];
            _generation++;
        }
    }

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
                _flushing = batch;
            }

            var accesses = batch.Select(p => new BlobAccess(p.Key.Container, p.Key.Name, p.Key.VersionId, p.Value.Count, p.Value.Bytes, p.Value.Last)).ToList();
            try
            {
                await _metadata.RecordAccessAsync(accesses, cancellationToken).ConfigureAwait(false);
                EndFlush();
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

                EndFlush();
                throw;
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }
}
