namespace BlobStorage.Abstractions;

/// <summary>The counts of one edge location, or of all of them (<see cref="EdgeCacheStatistics.Total"/>).</summary>
public sealed record EdgeLocationStatistics
{
    /// <summary>The edge location; null in the total.</summary>
    public string? EdgeLocation { get; init; }

    /// <summary>Reads served by the edge: <see cref="Hits"/> plus <see cref="Misses"/>.</summary>
    public long Requests => Hits + Misses;

    /// <summary>Reads served from the edge's copy.</summary>
    public long Hits { get; init; }

    /// <summary>Reads the edge did not hold a fresh copy for (including those too large to keep, and those that joined another's origin read).</summary>
    public long Misses { get; init; }

    /// <summary>Reads the edge made at the origin: at most one per miss, one for concurrent misses of the same version.</summary>
    public long OriginReads { get; init; }

    /// <summary><see cref="Hits"/> divided by <see cref="Requests"/>; 0 before any request.</summary>
    public double HitRatio => Requests == 0 ? 0 : (double)Hits / Requests;

    /// <summary>Bytes served from the edge's copies (hits).</summary>
    public long BytesServed { get; init; }

    /// <summary>Blobs the edge holds now.</summary>
    public long BlobsCached { get; init; }

    /// <summary>Bytes the edge holds now.</summary>
    public long BytesCached { get; init; }

    /// <summary>Copies dropped to make room or because their time to live ran out.</summary>
    public long Evictions { get; init; }

    /// <summary>Copies dropped because the blob changed, was deleted or was invalidated.</summary>
    public long Invalidations { get; init; }
}
