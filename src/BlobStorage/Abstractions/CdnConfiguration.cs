namespace BlobStorage.Abstractions;

/// <summary>
/// How a container's blobs are served through the edge cache and CDN URLs. Set with
/// <see cref="IBlobStore.SetCdnConfigurationAsync"/>; kept in the metadata store, so it survives a restart.
/// </summary>
public sealed class CdnConfiguration
{
    /// <summary>The default of <see cref="MaxCacheableSize"/>: 16 MiB.</summary>
    public const long DefaultMaxCacheableSize = 16L * 1024 * 1024;

    /// <summary>The longest <see cref="TimeToLive"/> accepted: 365 days.</summary>
    public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromDays(365);

    /// <summary>The configuration of a container that never had one: disabled, no edges, the defaults below.</summary>
    public static CdnConfiguration Disabled { get; } = new();

    /// <summary>Whether blobs may be read through edges and CDN URLs. Default false.</summary>
    public bool Enabled { get; init; }

    /// <summary>
    /// The edge locations (such as <c>us-east-1</c>) that serve the container: 1 to 63 lowercase letters,
    /// digits and single hyphens each, no duplicates, and each one of <see cref="BlobStorageOptions.EdgeLocations"/>
    /// when that list is not empty. Default none.
    /// </summary>
    public IReadOnlyList<string> EdgeLocations { get; init; } = [];

    /// <summary>How long an edge keeps a blob before it reads it from the origin again: zero to <see cref="MaxTimeToLive"/>. Default one hour.</summary>
    public TimeSpan TimeToLive { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The <c>Cache-Control</c> value blobs are served with; null for one made from <see cref="TimeToLive"/>
    /// (<c>public, max-age=…</c>). At most 256 printable ASCII characters. Default null.
    /// </summary>
    public string? CacheControl { get; init; }

    /// <summary>The host name CDN URLs use (<c>images.example.com</c>): a lowercase DNS name, no scheme, port or path. Default null.</summary>
    public string? CustomDomain { get; init; }

    /// <summary>
    /// Blobs up to this many bytes are kept by the edges; larger ones stream from the origin on every read
    /// without being held whole. Zero caches nothing. Default <see cref="DefaultMaxCacheableSize"/>.
    /// </summary>
    public long MaxCacheableSize { get; init; } = DefaultMaxCacheableSize;
}
