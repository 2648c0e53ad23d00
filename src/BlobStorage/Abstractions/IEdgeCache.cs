namespace BlobStorage.Abstractions;

/// <summary>
/// Edge locations in front of the store, as a CDN has: each keeps recently read blobs in a cache
/// bounded in bytes, for a container's <see cref="CdnConfiguration.TimeToLive"/>. An entry belongs to
/// one version of a blob (its version id and ETag), so an overwritten, changed or deleted blob is never
/// served stale. The store calls it for <see cref="IBlobStore.DownloadFromEdgeAsync"/> and invalidates
/// it when a blob changes; register another implementation to replace the in-memory default.
/// </summary>
public interface IEdgeCache
{
    /// <summary>
    /// Opens bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of
    /// <paramref name="version"/> at an edge: from the edge's copy when it holds this version and the copy
    /// has not expired, else from <paramref name="origin"/>. Concurrent misses for one version at one edge
    /// read the origin once. A blob larger than <see cref="CdnConfiguration.MaxCacheableSize"/> is not kept:
    /// the origin's stream of the range is returned as it is.
    /// </summary>
    /// <param name="edgeLocation">The edge location serving the read.</param>
    /// <param name="version">The properties of the blob's current version.</param>
    /// <param name="configuration">The container's CDN configuration (TTL, largest cacheable blob).</param>
    /// <param name="offset">The first byte to read.</param>
    /// <param name="length">How many bytes to read.</param>
    /// <param name="origin">Opens a range (offset, length) of exactly <paramref name="version"/> at the origin.</param>
    /// <param name="cancellationToken">Cancels this caller's wait; an origin read other callers share goes on.</param>
    /// <returns>A stream of the requested bytes; the caller disposes it.</returns>
    ValueTask<Stream> ReadAsync(
        string edgeLocation,
        BlobProperties version,
        CdnConfiguration configuration,
        long offset,
        long length,
        Func<long, long, CancellationToken, ValueTask<Stream>> origin,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Drops what edges hold of a blob, or of every blob of a container when <paramref name="name"/> is null,
    /// at one edge or, when <paramref name="edgeLocation"/> is null, at all of them.
    /// </summary>
    ValueTask InvalidateAsync(string container, string? name = null, string? edgeLocation = null, CancellationToken cancellationToken = default);

    /// <summary>Counts per edge location and in total since the cache was made.</summary>
    EdgeCacheStatistics GetStatistics();
}
