using System.Collections.Concurrent;
using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage.EdgeCache;

/// <summary>
/// The default <see cref="IEdgeCache"/>: every edge location a cache in this process's memory, bounded
/// to <see cref="BlobStorageOptions.EdgeCacheCapacity"/> bytes, least recently used first out.
/// </summary>
internal sealed class MemoryEdgeCache : IEdgeCache, IDisposable
{
    private readonly ConcurrentDictionary<string, EdgeLocationCache> _edges = new(StringComparer.Ordinal);
    private readonly long _capacity;
    private readonly TimeProvider _time;
    private readonly Func<long> _now;

    public MemoryEdgeCache(long capacity, TimeProvider time, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentNullException.ThrowIfNull(time);
        _capacity = capacity;
        _time = time;
        _now = () => _time.GetUtcNow().UtcTicks;
        Metrics = new EdgeCacheMetrics(() => _edges.Values, meterFactory);
    }

    internal EdgeCacheMetrics Metrics { get; }

    public async ValueTask<Stream> ReadAsync(
        string edgeLocation,
        BlobProperties version,
        CdnConfiguration configuration,
        long offset,
        long length,
        Func<long, long, CancellationToken, ValueTask<Stream>> origin,
        CancellationToken cancellationToken = default)
    {
        CdnRules.ValidateEdgeName(edgeLocation, nameof(edgeLocation));
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(origin);
        if (offset < 0 || length < 0 || offset + length > version.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"The range {offset} + {length} does not lie within the blob's {version.Size} bytes.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var edge = _edges.GetOrAdd(edgeLocation, static (name, cache) => new EdgeLocationCache(name, cache._capacity, cache.Metrics), this);
        if (edge.TryGet(version, _now(), out var cached))
        {
            edge.Hit(length);
            return cached.Open(offset, length);
        }

        edge.Miss();
        var cacheable = configuration.TimeToLive > TimeSpan.Zero && version.Size <= configuration.MaxCacheableSize && version.Size <= _capacity;
        if (!cacheable)
        {
            // Streamed through as the origin reads it: a large blob is never held whole.
            edge.OriginRead();
            return await origin(offset, length, cancellationToken).ConfigureAwait(false);
        }

        var content = await edge.FetchAsync(version, configuration.TimeToLive, origin, _now).WaitAsync(cancellationToken).ConfigureAwait(false);
        return content.Open(offset, length);
    }

    public ValueTask InvalidateAsync(string container, string? name = null, string? edgeLocation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        if (edgeLocation is not null)
        {
            if (_edges.TryGetValue(edgeLocation, out var edge)) edge.Invalidate(container, name);
        }
        else
        {
            foreach (var edge in _edges.Values) edge.Invalidate(container, name);
        }

        return ValueTask.CompletedTask;
    }

    public EdgeCacheStatistics GetStatistics()
    {
        var edges = _edges.Values.Select(e => e.Snapshot()).OrderBy(e => e.EdgeLocation, StringComparer.Ordinal).ToList();
        return new EdgeCacheStatistics
        {
            Edges = edges,
            Total = new EdgeLocationStatistics
            {
                Hits = edges.Sum(e => e.Hits),
                Misses = edges.Sum(e => e.Misses),
                OriginReads = edges.Sum(e => e.OriginReads),
                BytesServed = edges.Sum(e => e.BytesServed),
                BlobsCached = edges.Sum(e => e.BlobsCached),
                BytesCached = edges.Sum(e => e.BytesCached),
                Evictions = edges.Sum(e => e.Evictions),
                Invalidations = edges.Sum(e => e.Invalidations),
            },
        };
    }

    public void Dispose() => Metrics.Dispose();
}
