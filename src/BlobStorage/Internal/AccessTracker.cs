using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// Gathers downloads per blob in memory and writes them to the metadata store in batches, so a
/// read never waits for a metadata write. Counts not yet written are merged into the properties
/// the store returns, so callers see them at once.
/// </summary>
/// <remarks>
/// Every download passes here twice (merge, then record), so the counts are split into stripes by
/// blob, each with its own lock: concurrent downloads of different blobs never wait for each other,
/// and a thread preempted while it holds a lock stalls only the few blobs of its stripe.
/// </remarks>
internal sealed class AccessTracker : IDisposable
{
    // A power of two, well above the number of threads that read at once.
    private const int StripeCount = 64;

    private static readonly Dictionary<Key, Entry> None = [];

    private readonly Stripe[] _stripes = new Stripe[StripeCount];
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private readonly IMetadataStore _metadata;
    private readonly int _batchSize;

    // A sequence count, as a seqlock's: even while no batch can be visible in the metadata store and still be counted here,
    // odd from just before a batch's transaction commits until the batch has left memory. A read of the metadata store that
    // began and ended at the same even value cannot have seen a batch still counted here; any other read may have, so it is
    // not merged but read again. A store that implements IAccessCommitSignal says when its commit starts, so the odd span is
    // the commit alone; with any other store it starts when the write returns, and a read landing between that store's
    // commit and the return may count the batch twice, for that instant only.
    private long _generation;

    // Completed when the batch being written (the odd generation) has ended; replaced before each batch.
    private TaskCompletionSource _flushEnded = NewFlushEnded();

    // Blobs with pending counts, over all stripes: a flush is asked for when it reaches the batch size.
    private int _pendingBlobs;

    public AccessTracker(IMetadataStore metadata, int batchSize)
    {
        _metadata = metadata;
        _batchSize = batchSize;
        for (var i = 0; i < _stripes.Length; i++) _stripes[i] = new Stripe();
    }

    private sealed class Stripe
    {
        public readonly Lock Gate = new();

        /// <summary>Downloads not yet written.</summary>
        public Dictionary<Key, Entry> Pending = [];

        /// <summary>The part of the batch being written that falls in this stripe: still counted in properties until its transaction commits.</summary>
        public Dictionary<Key, Entry> Flushing = None;
    }

    private sealed class Entry
    {
        public long Count;
        public long Bytes;
        public DateTimeOffset Last;
    }

    /// <summary>A blob version, with its hash computed once for the stripe and the dictionary lookups.</summary>
    private readonly struct Key : IEquatable<Key>
    {
        private readonly int _hash;

        public Key(string container, string name, string versionId)
        {
            Container = container;
            Name = name;
            VersionId = versionId;
            _hash = HashCode.Combine(
                StringComparer.Ordinal.GetHashCode(name),
                StringComparer.Ordinal.GetHashCode(versionId),
                StringComparer.Ordinal.GetHashCode(container));
        }

        public string Container { get; }

        public string Name { get; }

        public string VersionId { get; }

        public int StripeIndex => _hash & (StripeCount - 1);

        public bool Equals(Key other) =>
            _hash == other._hash
            && string.Equals(VersionId, other.VersionId, StringComparison.Ordinal)
            && string.Equals(Name, other.Name, StringComparison.Ordinal)
            && string.Equals(Container, other.Container, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is Key other && Equals(other);

        public override int GetHashCode() => _hash;
    }

    /// <summary>Records one download; true when the batch is full and should be flushed.</summary>
    public bool Record(string container, string name, string versionId, long bytes, DateTimeOffset now)
    {
        var key = new Key(container, name, versionId);
        var stripe = _stripes[key.StripeIndex];
        bool added;
        lock (stripe.Gate)
        {
            added = !stripe.Pending.TryGetValue(key, out var entry);
            if (added)
            {
                entry = new Entry();
                stripe.Pending.Add(key, entry);
            }

            entry!.Count++;
            entry.Bytes += bytes;
            if (now > entry.Last) entry.Last = now;
        }

        // Only the record that fills the batch asks for a flush; the ones after it ride along.
        return added && Interlocked.Increment(ref _pendingBlobs) == _batchSize;
    }

    /// <summary>The flush sequence count; read it before reading properties from the metadata store.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>
    /// After <see cref="TryMerge"/> or <see cref="TryMergeAll"/> said to read again: waits while the batch that was being
    /// written when <paramref name="generation"/> was read is still being written, so that the read again is not a spin.
    /// </summary>
    public Task WaitForFlushAsync(long generation, CancellationToken cancellationToken)
    {
        if ((generation & 1) == 0 || Interlocked.Read(ref _generation) != generation) return Task.CompletedTask;
        return Volatile.Read(ref _flushEnded).Task.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource NewFlushEnded() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Adds the downloads not yet written, and those of a batch being written, to properties read from
    /// the metadata store, exactly: never a count twice, never one missed.
    /// </summary>
    /// <remarks>
    /// Returns false, asking the caller to read again (after <see cref="WaitForFlushAsync"/>), when a batch was being
    /// written at <paramref name="generation"/> or has been since: the read may or may not hold its counts.
    /// </remarks>
    public bool TryMerge(BlobProperties properties, long generation, out BlobProperties merged)
    {
        var key = new Key(properties.Container, properties.Name, properties.VersionId);
        var stripe = _stripes[key.StripeIndex];
        Entry? pending, flushing;
        lock (stripe.Gate)
        {
            // A flush raises the generation before it empties any stripe's batch, so under this lock either the
            // batch is still here or the generation has moved.
            merged = properties;
            if ((generation & 1) != 0 || generation != Interlocked.Read(ref _generation)) return false;
            stripe.Pending.TryGetValue(key, out pending);
            stripe.Flushing.TryGetValue(key, out flushing);
            if (pending is null && flushing is null) return true;
            merged = properties with
            {
                AccessCount = properties.AccessCount + (pending?.Count ?? 0) + (flushing?.Count ?? 0),
                LastAccessedOn = Latest(Latest(properties.LastAccessedOn, pending?.Last), flushing?.Last),
            };
            return true;
        }
    }

    /// <summary>
    /// <see cref="TryMerge"/> for a page of blobs. When no download waits to be written and no batch
    /// is being written, as is usual, the page is returned as it is, with no lookup per blob.
    /// </summary>
    public bool TryMergeAll(IReadOnlyList<BlobProperties> listed, long generation, out IReadOnlyList<BlobProperties> merged)
    {
        merged = listed;
        if (Volatile.Read(ref _pendingBlobs) == 0 && _flushLock.CurrentCount == 1)
        {
            return (generation & 1) == 0 && generation == Interlocked.Read(ref _generation);
        }

        BlobProperties[]? blobs = null;
        for (var i = 0; i < listed.Count; i++)
        {
            if (!TryMerge(listed[i], generation, out var one)) return false;
            if (ReferenceEquals(one, listed[i])) continue;
            blobs ??= [.. listed];
            blobs[i] = one;
        }

        if (blobs is not null) merged = blobs;
        return true;
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;

    public void Dispose() => _flushLock.Dispose();

    /// <summary>Writes every pending count; on failure they are put back for the next flush.</summary>
    public async Task<long> FlushAsync(CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Each stripe hands over its pending counts at once: a merge finds a blob's counts in one dictionary or the other.
            var accesses = new List<BlobAccess>();
            foreach (var stripe in _stripes)
            {
                Dictionary<Key, Entry> batch;
                lock (stripe.Gate)
                {
                    if (stripe.Pending.Count == 0) continue;
                    batch = stripe.Pending;
                    stripe.Pending = [];
                    stripe.Flushing = batch;
                }

                Interlocked.Add(ref _pendingBlobs, -batch.Count);
                foreach (var (key, entry) in batch)
                {
                    accesses.Add(new BlobAccess(key.Container, key.Name, key.VersionId, entry.Count, entry.Bytes, entry.Last));
                }
            }

            if (accesses.Count == 0) return 0;

            // Odd from the commit's start until the batch is either only in the metadata store or back in Pending.
            var ended = NewFlushEnded();
            Volatile.Write(ref _flushEnded, ended);
            var committing = 0;
            void Committing()
            {
                if (Interlocked.Exchange(ref committing, 1) == 0) Interlocked.Increment(ref _generation);
            }

            try
            {
                if (_metadata is IAccessCommitSignal signal)
                {
                    await signal.RecordAccessAsync(accesses, Committing, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _metadata.RecordAccessAsync(accesses, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                foreach (var stripe in _stripes)
                {
                    lock (stripe.Gate)
                    {
                        foreach (var (key, entry) in stripe.Flushing)
                        {
                            if (stripe.Pending.TryGetValue(key, out var newer))
                            {
                                newer.Count += entry.Count;
                                newer.Bytes += entry.Bytes;
                                if (entry.Last > newer.Last) newer.Last = entry.Last;
                            }
                            else
                            {
                                stripe.Pending.Add(key, entry);
                                Interlocked.Increment(ref _pendingBlobs);
                            }
                        }

                        stripe.Flushing = None;
                    }
                }

                if (Volatile.Read(ref committing) == 1) Interlocked.Increment(ref _generation);
                ended.TrySetResult();
                throw;
            }

            // The batch is in the metadata store now. Back to even only once no stripe holds its part any more, so a
            // read that starts from the new even value never finds the batch both in the store and here.
            Committing();
            foreach (var stripe in _stripes)
            {
                lock (stripe.Gate) stripe.Flushing = None;
            }

            Interlocked.Increment(ref _generation);
            ended.TrySetResult();
            return accesses.Count;
        }
        finally
        {
            _flushLock.Release();
        }
    }
}
