using System.Collections.Concurrent;
using BlobStorage.Abstractions;

namespace BlobStorage.EdgeCache;

/// <summary>
/// One edge location: a least-recently-used cache bounded in bytes, one entry per blob name holding
/// the version it was read at, and the origin reads in flight.
/// </summary>
/// <remarks>
/// Own code rather than BitFaster.Caching or Microsoft.Extensions.Caching.Memory: BitFaster's caches are
/// bounded by a count of entries, not by their bytes, and MemoryCache's size limit compacts by a
/// percentage in the background, so neither keeps a byte bound exactly or counts evictions exactly.
/// A linked list and a dictionary under one lock do both, and they let a lookup check the version and
/// the expiry in the same step that moves the entry to the front.
/// </remarks>
internal sealed class EdgeLocationCache(string name, long capacity, EdgeCacheMetrics metrics)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Container, string Name), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = new();
    private readonly ConcurrentDictionary<Flight, Task<CachedContent>> _flights = new();
    private long _bytes;
    private long _generation;
    private long _hits;
    private long _misses;
    private long _originReads;
    private long _bytesServed;
    private long _evictions;
    private long _invalidations;

    public string Name { get; } = name;

    /// <summary>The entry for this exact version when fresh; a stale or expired entry of the name is dropped.</summary>
    public bool TryGet(BlobProperties version, long now, out CachedContent content)
    {
        int expired = 0, stale = 0;
        lock (_gate)
        {
            content = null!;
            if (_entries.TryGetValue((version.Container, version.Name), out var node))
            {
                var entry = node.Value;
                if (entry.VersionId != version.VersionId || entry.ETag != version.ETag)
                {
                    Remove(node);
                    stale = 1;
                }
                else if (now >= entry.ExpiresAt)
                {
                    Remove(node);
                    expired = 1;
                }
                else
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    content = entry.Content;
                }
            }
        }

        Count(evicted: expired, invalidated: stale);
        return content is not null;
    }

    public void Hit(long bytes)
    {
        Interlocked.Increment(ref _hits);
        Interlocked.Add(ref _bytesServed, bytes);
        metrics.Request(Name, hit: true, bytes);
    }

    public void Miss()
    {
        Interlocked.Increment(ref _misses);
        metrics.Request(Name, hit: false, 0);
    }

    public void OriginRead() => Interlocked.Increment(ref _originReads);

    /// <summary>The content of this version, read from the origin once however many callers ask at once.</summary>
    public Task<CachedContent> FetchAsync(BlobProperties version, TimeSpan timeToLive, Func<long, long, CancellationToken, ValueTask<Stream>> origin, Func<long> now)
    {
        var flight = new Flight(version.Container, version.Name, version.VersionId, version.ETag);
        if (_flights.TryGetValue(flight, out var running)) return running;
        var completion = new TaskCompletionSource<CachedContent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var winner = _flights.GetOrAdd(flight, completion.Task);
        if (winner != completion.Task) return winner;
        _ = FetchCoreAsync(flight, completion, version, timeToLive, origin, now);
        return completion.Task;
    }

    private async Task FetchCoreAsync(
        Flight flight,
        TaskCompletionSource<CachedContent> completion,
        BlobProperties version,
        TimeSpan timeToLive,
        Func<long, long, CancellationToken, ValueTask<Stream>> origin,
        Func<long> now)
    {
        try
        {
            long generation;
            lock (_gate) generation = _generation;

            // Another flight of this version may have ended between this caller's miss and its flight starting.
            if (TryPeek(version, now(), out var cached))
            {
                completion.SetResult(cached);
                return;
            }

            OriginRead();

            // Shared by every waiter, so no one caller's token may cancel it; each waiter stops waiting on its own token.
            var stream = await origin(0, version.Size, CancellationToken.None).ConfigureAwait(false);
            CachedContent content;
            await using (stream.ConfigureAwait(false))
            {
                content = await CachedContent.ReadAsync(stream, version.Size, version.Container, version.Name, CancellationToken.None).ConfigureAwait(false);
            }

            Insert(version, content, now() + timeToLive.Ticks, generation);
            completion.SetResult(content);
        }
        catch (Exception ex)
        {
            completion.SetException(ex);
        }
        finally
        {
            _flights.TryRemove(new KeyValuePair<Flight, Task<CachedContent>>(flight, completion.Task));
        }
    }

    private bool TryPeek(BlobProperties version, long now, out CachedContent content)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((version.Container, version.Name), out var node)
                && node.Value.VersionId == version.VersionId && node.Value.ETag == version.ETag && now < node.Value.ExpiresAt)
            {
                content = node.Value.Content;
                return true;
            }
        }

        content = null!;
        return false;
    }

    /// <summary>Keeps the content unless an invalidation ran since <paramref name="generation"/>: the version may be one just dropped.</summary>
    private void Insert(BlobProperties version, CachedContent content, long expiresAt, long generation)
    {
        int evicted = 0, replaced = 0;
        lock (_gate)
        {
            if (generation != _generation || content.Length > capacity) return;
            var key = (version.Container, version.Name);
            if (_entries.TryGetValue(key, out var old))
            {
                Remove(old);
                replaced = 1;
            }

            while (_bytes + content.Length > capacity && _recency.Last is { } last)
            {
                Remove(last);
                evicted++;
            }

            var node = _recency.AddFirst(new Entry(key, version.VersionId, version.ETag, content, expiresAt));
            _entries.Add(key, node);
            _bytes += content.Length;
        }

        Count(evicted, replaced);
    }

    /// <summary>Drops the blob's entry, or every entry of the container when <paramref name="blobName"/> is null.</summary>
    public void Invalidate(string container, string? blobName)
    {
        var dropped = 0;
        lock (_gate)
        {
            _generation++;
            if (blobName is not null)
            {
                if (_entries.TryGetValue((container, blobName), out var node))
                {
                    Remove(node);
                    dropped = 1;
                }
            }
            else
            {
                for (var node = _recency.First; node is not null;)
                {
                    var next = node.Next;
                    if (node.Value.Key.Container == container)
                    {
                        Remove(node);
                        dropped++;
                    }

                    node = next;
                }
            }
        }

        Count(0, dropped);
    }

    public (long Blobs, long Bytes) Size()
    {
        lock (_gate) return (_entries.Count, _bytes);
    }

    public EdgeLocationStatistics Snapshot()
    {
        var (blobs, bytes) = Size();
        return new EdgeLocationStatistics
        {
            EdgeLocation = Name,
            Hits = Interlocked.Read(ref _hits),
            Misses = Interlocked.Read(ref _misses),
            OriginReads = Interlocked.Read(ref _originReads),
            BytesServed = Interlocked.Read(ref _bytesServed),
            BlobsCached = blobs,
            BytesCached = bytes,
            Evictions = Interlocked.Read(ref _evictions),
            Invalidations = Interlocked.Read(ref _invalidations),
        };
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Content.Length;
    }

    private void Count(int evicted, int invalidated)
    {
        if (evicted > 0)
        {
            Interlocked.Add(ref _evictions, evicted);
            metrics.Evicted(Name, evicted);
        }

        if (invalidated > 0)
        {
            Interlocked.Add(ref _invalidations, invalidated);
            metrics.Invalidated(Name, invalidated);
        }
    }

    private sealed record Entry((string Container, string Name) Key, string VersionId, string ETag, CachedContent Content, long ExpiresAt);

    private readonly record struct Flight(string Container, string Name, string VersionId, string ETag);
}
