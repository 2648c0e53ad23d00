using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>The rules a <see cref="CdnConfiguration"/> and edge location names follow.</summary>
internal static class CdnRules
{
    public const int MaxEdgeLocations = 64;
    public const int MaxCacheControlLength = 256;
    private const int MaxDomainLength = 253;
    private const int MaxLabelLength = 63;

    /// <summary>Checks a configuration's shape (ArgumentException naming the rule) and that its edges are known (<see cref="BlobErrorCode.UnknownEdgeLocation"/>); returns a copy to store.</summary>
    public static CdnConfiguration Validate(CdnConfiguration configuration, IReadOnlyCollection<string> knownEdges, string paramName)
    {
        ArgumentNullException.ThrowIfNull(configuration, paramName);
        var edges = configuration.EdgeLocations ?? throw new ArgumentException("EdgeLocations must not be null; pass an empty list for none.", paramName);
        if (edges.Count > MaxEdgeLocations)
        {
            throw new ArgumentException($"A container is served by at most {MaxEdgeLocations} edge locations; {edges.Count} were given.", paramName);
        }

        var copy = new List<string>(edges.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var edge in edges)
        {
            ValidateEdgeName(edge, paramName);
            if (!seen.Add(edge)) throw new ArgumentException($"Edge location '{edge}' is listed twice.", paramName);
            if (knownEdges.Count > 0 && !knownEdges.Contains(edge)) throw UnknownEdge(edge, knownEdges);
            copy.Add(edge);
        }

        if (configuration.TimeToLive < TimeSpan.Zero || configuration.TimeToLive > CdnConfiguration.MaxTimeToLive)
        {
            throw new ArgumentOutOfRangeException(paramName, configuration.TimeToLive, $"TimeToLive must be between zero and {CdnConfiguration.MaxTimeToLive.TotalDays:F0} days; it is {configuration.TimeToLive}.");
        }

        if (configuration.MaxCacheableSize < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, configuration.MaxCacheableSize, $"MaxCacheableSize must be zero or more bytes; it is {configuration.MaxCacheableSize}.");
        }

        if (configuration.CacheControl is { } cacheControl) ValidateCacheControl(cacheControl, paramName);
        if (configuration.CustomDomain is { } domain) ValidateDomain(domain, paramName);
        return new CdnConfiguration
        {
            Enabled = configuration.Enabled,
            EdgeLocations = copy.AsReadOnly(),
            TimeToLive = configuration.TimeToLive,
            CacheControl = configuration.CacheControl,
            CustomDomain = configuration.CustomDomain,
            MaxCacheableSize = configuration.MaxCacheableSize,
        };
    }

    /// <summary>An edge location name: 1 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.</summary>
    public static void ValidateEdgeName(string? edge, string paramName)
    {
        if (!IsEdgeName(edge))
        {
            throw new ArgumentException(
                $"Edge location '{edge}' is not valid: use 1 to {MaxLabelLength} lowercase letters, digits and single hyphens, starting and ending with a letter or digit (such as 'us-east-1').",
                paramName);
        }
    }

    public static bool IsEdgeName(string? edge)
    {
        if (string.IsNullOrEmpty(edge) || edge.Length > MaxLabelLength) return false;
        if (edge[0] == '-' || edge[^1] == '-' || edge.Contains("--", StringComparison.Ordinal)) return false;
        foreach (var c in edge)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')) return false;
        }

        return true;
    }

    public static BlobStorageException UnknownEdge(string edge, IReadOnlyCollection<string> knownEdges) =>
        new(BlobErrorCode.UnknownEdgeLocation, $"Edge location '{edge}' is not configured; the store knows {string.Join(", ", knownEdges.Select(e => "'" + e + "'"))} (BlobStorageOptions.EdgeLocations).");

    /// <summary>A header value: printable ASCII (no CR, LF or other control character, which would split the response).</summary>
    private static void ValidateCacheControl(string value, string paramName)
    {
        if (value.Length is 0 or > MaxCacheControlLength)
        {
            throw new ArgumentException($"CacheControl must be 1 to {MaxCacheControlLength} characters, or null for one made from the TTL; it has {value.Length}.", paramName);
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] is < ' ' or > '~')
            {
                throw new ArgumentException($"CacheControl must be printable ASCII; it holds U+{(int)value[i]:X4} at position {i}.", paramName);
            }
        }
    }

    /// <summary>A host name as a request gives it, lowercased and without a trailing dot, checked like a custom domain.</summary>
    public static string NormalizeHost(string host, string paramName)
    {
        ArgumentNullException.ThrowIfNull(host, paramName);
        var domain = host.EndsWith('.') ? host[..^1] : host;
        domain = domain.ToLowerInvariant();
        if (!IsDomain(domain))
        {
            throw new ArgumentException(
                $"'{host}' is not a host name: expected labels of letters, digits and hyphens separated by dots, at most {MaxDomainLength} characters, with no scheme, port or path.",
                paramName);
        }

        return domain;
    }

    /// <summary>A lowercase DNS host name of two labels or more: no scheme, port, path or trailing dot.</summary>
    private static void ValidateDomain(string domain, string paramName)
    {
        if (!IsDomain(domain))
        {
            throw new ArgumentException(
                $"CustomDomain '{domain}' is not a host name: use lowercase labels of letters, digits and hyphens separated by dots (such as 'images.example.com'), at most {MaxDomainLength} characters, with no scheme, port or path.",
                paramName);
        }
    }

    private static bool IsDomain(string domain)
    {
        if (domain.Length is 0 or > MaxDomainLength) return false;
        var labels = domain.Split('.');
        if (labels.Length < 2) return false;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-') return false;
            foreach (var c in label)
            {
                if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')) return false;
            }
        }

        // A top-level label of digits only would make an IP address look like a domain.
        return !labels[^1].All(char.IsAsciiDigit);
    }
}
