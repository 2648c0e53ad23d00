using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage.Urls;

/// <summary>The default <see cref="IBlobUrlProvider"/>: URLs from <see cref="BlobUrlOptions"/>, signatures with HMAC-SHA256.</summary>
internal sealed class BlobUrlProvider : IBlobUrlProvider
{
    /// <summary>The version of the canonical string below; a URL of another version is refused, never guessed at.</summary>
    public const string SignatureVersion = "2026-12-01";

    private const string VersionField = "sv";
    private const string PermissionsField = "sp";
    private const string StartField = "st";
    private const string ExpiryField = "se";
    private const string KeyField = "skid";
    private const string ResourceField = "sr";
    private const string SignatureField = "sig";
    private const int ResourceHashBytes = 9;
    private const int MaxQueryLength = 4096;

    private readonly IBlobStore _store;
    private readonly Uri? _baseAddress;
    private readonly Uri? _cdnBaseAddress;
    private readonly Dictionary<string, BlobSigningKey> _keys;
    private readonly BlobSigningKey? _signingKey;
    private readonly TimeProvider _time;

    public BlobUrlProvider(IBlobStore store, BlobUrlOptions options, TimeProvider time)
    {
        _store = store;
        _time = time;
        _baseAddress = options.BaseAddress;
        _cdnBaseAddress = options.CdnBaseAddress;
        _keys = options.SigningKeys.ToDictionary(k => k.Id, StringComparer.Ordinal);
        _signingKey = options.SigningKeyId is { } id ? _keys.GetValueOrDefault(id) : options.SigningKeys.FirstOrDefault();
    }

    public Uri GetDirectUrl(string container, string name)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        var baseAddress = _baseAddress ?? throw NotConfigured("BlobStorageOptions.Urls.BaseAddress is not set, so blobs have no direct URL.");
        return new Uri(Join(baseAddress, container + "/" + EncodeName(name)));
    }

    public async Task<Uri> GetCdnUrlAsync(string container, string name, string? edgeLocation = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        if (edgeLocation is not null) CdnRules.ValidateEdgeName(edgeLocation, nameof(edgeLocation));
        var cdn = await _store.GetCdnConfigurationAsync(container, cancellationToken).ConfigureAwait(false);
        if (!cdn.Enabled)
        {
            throw new BlobStorageException(BlobErrorCode.CdnNotEnabled, $"Container '{container}' does not have its CDN enabled, so its blobs have no CDN URL.");
        }

        if (edgeLocation is not null && !cdn.EdgeLocations.Contains(edgeLocation, StringComparer.Ordinal))
        {
            throw new BlobStorageException(BlobErrorCode.CdnNotEnabled, $"Container '{container}' is not served from edge location '{edgeLocation}'; its edges are {string.Join(", ", cdn.EdgeLocations)}.");
        }

        var url = cdn.CustomDomain is { } domain
            ? "https://" + domain + "/" + EncodeName(name)
            : Join(_cdnBaseAddress ?? throw NotConfigured($"Container '{container}' has no custom domain and BlobStorageOptions.Urls.CdnBaseAddress is not set, so its blobs have no CDN URL."), container + "/" + EncodeName(name));
        return new Uri(edgeLocation is null ? url : url + "?edge=" + edgeLocation);
    }

    public Uri Sign(Uri url, string container, string? name, BlobPermissions permissions, DateTimeOffset expiresOn, DateTimeOffset? startsOn = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri) throw new ArgumentException($"Only an absolute URL can be signed; '{url}' is relative.", nameof(url));
        BlobNames.ValidateContainerName(container, nameof(container));
        if (name is not null) BlobNames.ValidateBlobName(name, nameof(name));
        if (permissions == BlobPermissions.None || (permissions & ~AllPermissions) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(permissions), permissions, "Permissions must be one or more of Read, Write, Delete and List.");
        }

        if (name is null && permissions != BlobPermissions.List)
        {
            throw new ArgumentException("A URL signed for a container (no blob name) grants List only; sign Read, Write or Delete for a blob.", nameof(permissions));
        }

        if (name is not null && permissions.HasFlag(BlobPermissions.List))
        {
            throw new ArgumentException("List applies to a container: sign it with a null name.", nameof(permissions));
        }

        var expiry = expiresOn.ToUnixTimeSeconds();
        var start = startsOn?.ToUnixTimeSeconds();
        if (start is { } s && expiry <= s)
        {
            throw new ArgumentException($"The expiry ({expiresOn:O}) must be after the start ({startsOn:O}), in whole seconds.", nameof(expiresOn));
        }

        var key = _signingKey ?? throw NotConfigured("No signing key is configured (BlobStorageOptions.Urls.SigningKeys is empty); there is no built-in secret, so URLs cannot be signed.");
        var sp = FormatPermissions(permissions);
        var st = start?.ToString(CultureInfo.InvariantCulture) ?? "";
        var se = expiry.ToString(CultureInfo.InvariantCulture);
        var signature = Hmac(key, SignatureVersion, sp, container, name ?? "", st, se, key.Id);
        var query = new StringBuilder()
            .Append(VersionField).Append('=').Append(SignatureVersion)
            .Append('&').Append(PermissionsField).Append('=').Append(sp);
        if (start is not null) query.Append('&').Append(StartField).Append('=').Append(st);
        query.Append('&').Append(ExpiryField).Append('=').Append(se)
            .Append('&').Append(KeyField).Append('=').Append(Uri.EscapeDataString(key.Id))
            .Append('&').Append(ResourceField).Append('=').Append(ResourceHash(container, name))
            .Append('&').Append(SignatureField).Append('=').Append(Base64Url.EncodeToString(signature));
        var text = url.AbsoluteUri;
        var hash = text.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0) text = text[..hash];
        return new Uri(text + (string.IsNullOrEmpty(url.Query) ? "?" : "&") + query);
    }

    public SignedUrlVerification Verify(string container, string? name, string? query, BlobPermissions required)
    {
        ArgumentNullException.ThrowIfNull(container);
        var fields = ParseQuery(query);
        if (fields is null) return Refuse(SignedUrlStatus.Malformed, "The query string is too long or repeats a signature field.");
        if (!fields.TryGetValue(SignatureField, out var sig)) return Refuse(SignedUrlStatus.Missing, "The URL carries no signature (sig).");
        foreach (var field in (string[])[VersionField, PermissionsField, ExpiryField, KeyField, ResourceField])
        {
            if (!fields.ContainsKey(field)) return Refuse(SignedUrlStatus.Malformed, $"The signature field '{field}' is missing.");
        }

        if (fields[VersionField] != SignatureVersion)
        {
            return Refuse(SignedUrlStatus.Malformed, $"Signature version '{fields[VersionField]}' is not supported; this store signs version {SignatureVersion}.");
        }

        var sp = fields[PermissionsField];
        if (!TryParsePermissions(sp, out var permissions)) return Refuse(SignedUrlStatus.Malformed, "The permissions (sp) are not letters of 'rwdl' in that order.");
        if (!TryParseSeconds(fields[ExpiryField], out var expiry)) return Refuse(SignedUrlStatus.Malformed, "The expiry (se) is not a time in Unix seconds.");
        var st = fields.GetValueOrDefault(StartField) ?? "";
        long? start = null;
        if (st.Length > 0)
        {
            if (!TryParseSeconds(st, out var parsed)) return Refuse(SignedUrlStatus.Malformed, "The start (st) is not a time in Unix seconds.");
            start = parsed;
        }

        var keyId = fields[KeyField];
        if (!_keys.TryGetValue(keyId, out var key)) return Refuse(SignedUrlStatus.UnknownKey, $"The URL was signed with key '{keyId}', which this store does not have (it may have been rotated out).");

        // Not secret (anyone can compute it), so it only tells an honest mistake from a forgery; the HMAC decides.
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(ResourceHash(container, name)), Encoding.ASCII.GetBytes(fields[ResourceField])))
        {
            return Refuse(SignedUrlStatus.TamperedPath, "The URL was signed for another container or blob than the one requested.");
        }

        var expected = Hmac(key, SignatureVersion, sp, container, name ?? "", st, fields[ExpiryField], keyId);
        var given = new byte[64];
        var length = 0;
        if (sig.Length > 88 || !Base64Url.IsValid(sig) || !Base64Url.TryDecodeFromChars(sig, given, out length) || !CryptographicOperations.FixedTimeEquals(expected, given.AsSpan(0, length)))
        {
            return Refuse(SignedUrlStatus.BadSignature, "The signature does not match the URL: a field was changed, or the URL was not signed by this store.");
        }

        var expiresOn = DateTimeOffset.FromUnixTimeSeconds(expiry);
        var now = _time.GetUtcNow();
        if (start is { } s && now < DateTimeOffset.FromUnixTimeSeconds(s))
        {
            return new SignedUrlVerification(SignedUrlStatus.NotYetValid, $"The URL is valid from {DateTimeOffset.FromUnixTimeSeconds(s):O}.", permissions, expiresOn);
        }

        if (now >= expiresOn) return new SignedUrlVerification(SignedUrlStatus.Expired, $"The URL expired at {expiresOn:O}.", permissions, expiresOn);
        if ((permissions & required) != required)
        {
            return new SignedUrlVerification(SignedUrlStatus.MissingPermission, $"The URL grants {permissions}, not {required}.", permissions, expiresOn);
        }

        return new SignedUrlVerification(SignedUrlStatus.Valid, "The signature is valid.", permissions, expiresOn);
    }

    /// <summary>A blob name as a URL path: each segment percent-encoded, '/' kept as the separator.</summary>
    public static string EncodeName(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    private const BlobPermissions AllPermissions = BlobPermissions.Read | BlobPermissions.Write | BlobPermissions.Delete | BlobPermissions.List;

    private static string Join(Uri baseAddress, string path)
    {
        var text = baseAddress.AbsoluteUri;
        return text.EndsWith('/') ? text + path : text + "/" + path;
    }

    private static byte[] Hmac(BlobSigningKey key, string version, string permissions, string container, string name, string start, string expiry, string keyId)
    {
        // Names hold no control character, so a newline can never be part of a field: the string is unambiguous.
        var canonical = string.Join('\n', version, permissions, container, name, start, expiry, keyId);
        return HMACSHA256.HashData(key.Secret, Encoding.UTF8.GetBytes(canonical));
    }

    private static string ResourceHash(string container, string? name) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(container + "\n" + name)).AsSpan(0, ResourceHashBytes));

    private static string FormatPermissions(BlobPermissions permissions)
    {
        var text = new StringBuilder(4);
        if (permissions.HasFlag(BlobPermissions.Read)) text.Append('r');
        if (permissions.HasFlag(BlobPermissions.Write)) text.Append('w');
        if (permissions.HasFlag(BlobPermissions.Delete)) text.Append('d');
        if (permissions.HasFlag(BlobPermissions.List)) text.Append('l');
        return text.ToString();
    }

    private static bool TryParsePermissions(string text, out BlobPermissions permissions)
    {
        permissions = BlobPermissions.None;
        foreach (var c in text)
        {
            var flag = c switch { 'r' => BlobPermissions.Read, 'w' => BlobPermissions.Write, 'd' => BlobPermissions.Delete, 'l' => BlobPermissions.List, _ => BlobPermissions.None };
            if (flag == BlobPermissions.None || flag <= permissions) return false;
            permissions |= flag;
        }

        return permissions != BlobPermissions.None && FormatPermissions(permissions) == text;
    }

    private static bool TryParseSeconds(string text, out long seconds) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seconds)
        && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
        && text == seconds.ToString(CultureInfo.InvariantCulture);

    /// <summary>The query's fields, unescaped; null when too long or a signature field is repeated. Other parameters pass.</summary>
    private static Dictionary<string, string>? ParseQuery(string? query)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(query)) return fields;
        if (query.Length > MaxQueryLength) return null;
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            if (key is not (VersionField or PermissionsField or StartField or ExpiryField or KeyField or ResourceField or SignatureField)) continue;
            if (!fields.TryAdd(key, value)) return null;
        }

        return fields;
    }

    private static SignedUrlVerification Refuse(SignedUrlStatus status, string reason) => new(status, reason);

    private static BlobStorageException NotConfigured(string message) => new(BlobErrorCode.NotConfigured, message);
}
