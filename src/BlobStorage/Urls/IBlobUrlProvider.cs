namespace BlobStorage.Urls;

/// <summary>
/// Makes the URLs of blobs (direct, CDN, signed) and checks signed ones. Names are percent-encoded
/// segment by segment, so <c>/</c> stays a separator and every other character round-trips.
/// </summary>
public interface IBlobUrlProvider
{
    /// <summary>The blob's URL under <see cref="BlobUrlOptions.BaseAddress"/>: the base, the container, the encoded name.</summary>
    /// <exception cref="ArgumentException">A name breaks its rule.</exception>
    /// <exception cref="Abstractions.BlobStorageException">No base address is configured (<see cref="Abstractions.BlobErrorCode.NotConfigured"/>).</exception>
    Uri GetDirectUrl(string container, string name);

    /// <summary>
    /// The blob's CDN URL: <c>https://{custom domain}/{name}</c> when the container has a custom domain, else
    /// <see cref="BlobUrlOptions.CdnBaseAddress"/>, the container and the name; with an edge location, an
    /// <c>edge</c> query parameter names it.
    /// </summary>
    /// <exception cref="Abstractions.BlobStorageException">The container's CDN is off or not at that edge (<see cref="Abstractions.BlobErrorCode.CdnNotEnabled"/>), or neither a custom domain nor a CDN base address is configured (<see cref="Abstractions.BlobErrorCode.NotConfigured"/>).</exception>
    /// <exception cref="Abstractions.ContainerNotFoundException">No such container.</exception>
    Task<Uri> GetCdnUrlAsync(string container, string name, string? edgeLocation = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a signature to <paramref name="url"/> (a direct or CDN URL of the blob, or of the container when
    /// <paramref name="name"/> is null, for <see cref="BlobPermissions.List"/>): HMAC-SHA256, with the key
    /// <see cref="BlobUrlOptions.SigningKeyId"/>, over the signature version, the permissions, the container,
    /// the name, the start and the expiry (whole seconds) and the key id.
    /// </summary>
    /// <exception cref="ArgumentException">The permissions are none, the expiry is not after the start, or the URL already has a query.</exception>
    /// <exception cref="Abstractions.BlobStorageException">No signing key is configured (<see cref="Abstractions.BlobErrorCode.NotConfigured"/>).</exception>
    Uri Sign(Uri url, string container, string? name, BlobPermissions permissions, DateTimeOffset expiresOn, DateTimeOffset? startsOn = null);

    /// <summary>
    /// Checks the signature in <paramref name="query"/> (a URL's query string, with or without its <c>?</c>)
    /// for a request to <paramref name="container"/> and <paramref name="name"/> (null for the container) that
    /// needs <paramref name="required"/>, comparing in constant time. Never throws for a bad URL: the result says why.
    /// </summary>
    SignedUrlVerification Verify(string container, string? name, string? query, BlobPermissions required);
}
