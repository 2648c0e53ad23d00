namespace BlobStorage.Urls;

/// <summary>
/// Where the store's blobs are reachable over HTTP, and the keys that sign URLs; part of
/// <see cref="BlobStorageOptions.Urls"/>. There is no built-in secret: signing needs a key here.
/// </summary>
public sealed class BlobUrlOptions
{
    /// <summary>
    /// The absolute http or https address blobs are served under (where <c>MapBlobStorage</c> is mapped,
    /// such as <c>https://storage.example.com/blobs/</c>); a direct URL is this, the container and the name. Default null.
    /// </summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// The absolute http or https address of the CDN in front of the store (such as <c>https://cdn.example.com/</c>),
    /// for containers without a custom domain. Default null.
    /// </summary>
    public Uri? CdnBaseAddress { get; set; }

    /// <summary>
    /// The keys URLs are verified with, by id. To rotate, add a new key and make it <see cref="SigningKeyId"/>:
    /// URLs signed with the old key keep verifying until it is removed.
    /// </summary>
    public IList<BlobSigningKey> SigningKeys { get; } = [];

    /// <summary>The id of the key new URLs are signed with; null for the first of <see cref="SigningKeys"/>.</summary>
    public string? SigningKeyId { get; set; }

    /// <summary>Checks every setting and returns the first problem, naming the setting, or null.</summary>
    internal string? Validate(string prefix)
    {
        if (BaseAddress is { } baseAddress && !IsHttp(baseAddress))
            return $"{prefix}.{nameof(BaseAddress)} must be an absolute http or https address with no query or fragment; it is '{baseAddress}'.";
        if (CdnBaseAddress is { } cdn && !IsHttp(cdn))
            return $"{prefix}.{nameof(CdnBaseAddress)} must be an absolute http or https address with no query or fragment; it is '{cdn}'.";
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in SigningKeys)
        {
            if (key is null) return $"{prefix}.{nameof(SigningKeys)} holds a null key.";
            if (!ids.Add(key.Id)) return $"{prefix}.{nameof(SigningKeys)} holds key id '{key.Id}' twice.";
        }

        if (SigningKeyId is { } active && !ids.Contains(active))
            return $"{prefix}.{nameof(SigningKeyId)} is '{active}', which is not the id of any of {prefix}.{nameof(SigningKeys)}.";
        return null;
    }

    private static bool IsHttp(Uri address) =>
        address.IsAbsoluteUri && (address.Scheme == Uri.UriSchemeHttp || address.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(address.Query) && string.IsNullOrEmpty(address.Fragment);
}
