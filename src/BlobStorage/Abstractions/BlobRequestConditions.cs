namespace BlobStorage.Abstractions;

/// <summary>Conditions an operation checks atomically against the blob's current state.</summary>
public sealed class BlobRequestConditions
{
    /// <summary>The operation proceeds only if the blob's ETag equals this one; <c>"*"</c> means "the blob exists".</summary>
    public string? IfMatch { get; init; }

    /// <summary>The operation proceeds only if the blob's ETag differs from this one; <c>"*"</c> means "the blob does not exist" (create only).</summary>
    public string? IfNoneMatch { get; init; }

    /// <summary>The operation proceeds only if the blob was modified after this moment.</summary>
    public DateTimeOffset? IfModifiedSince { get; init; }

    /// <summary>The operation proceeds only if the blob was not modified after this moment.</summary>
    public DateTimeOffset? IfUnmodifiedSince { get; init; }

    /// <summary>Conditions that make an upload create-only.</summary>
    public static BlobRequestConditions CreateOnly { get; } = new() { IfNoneMatch = "*" };

    /// <summary>
    /// Checks the conditions against the current version (null when the blob does not exist) and
    /// throws <see cref="PreconditionFailedException"/> naming the condition that failed.
    /// Every metadata store calls this inside the transaction that changes the blob.
    /// </summary>
    public void Check(string container, string name, string? currentETag, DateTimeOffset? lastModified)
    {
        if (IfMatch is not null)
        {
            if (currentETag is null)
            {
                throw new PreconditionFailedException($"IfMatch {IfMatch} failed: blob '{name}' in container '{container}' does not exist.");
            }

            if (!IsWildcard(IfMatch) && !ETagEquals(IfMatch, currentETag))
            {
                throw new PreconditionFailedException($"IfMatch failed on blob '{name}' in container '{container}': expected ETag {IfMatch}, found {currentETag}.");
            }
        }

        if (IfNoneMatch is not null && currentETag is not null)
        {
            if (IsWildcard(IfNoneMatch))
            {
                throw new PreconditionFailedException($"IfNoneMatch * failed: blob '{name}' already exists in container '{container}' (ETag {currentETag}).");
            }

            if (ETagEquals(IfNoneMatch, currentETag))
            {
                throw new PreconditionFailedException($"IfNoneMatch failed on blob '{name}' in container '{container}': its ETag is {currentETag}.");
            }
        }

        if (IfModifiedSince is { } since && (lastModified is null || lastModified <= since))
        {
            throw new PreconditionFailedException($"IfModifiedSince {since:O} failed on blob '{name}' in container '{container}': last modified {lastModified?.ToString("O") ?? "never (it does not exist)"}.");
        }

        if (IfUnmodifiedSince is { } until && lastModified is { } modified && modified > until)
        {
            throw new PreconditionFailedException($"IfUnmodifiedSince {until:O} failed on blob '{name}' in container '{container}': last modified {modified:O}.");
        }
    }

    private static bool IsWildcard(string etag) => etag.Trim() == "*";

    /// <summary>Compares ETags as HTTP does for strong comparison, quoted or not (a weak prefix is ignored).</summary>
    internal static bool ETagEquals(string a, string b) =>
        Normalize(a).SequenceEqual(Normalize(b));

    // An ETag may be given with or without its quotes, or as a weak validator.
    private static ReadOnlySpan<char> Normalize(string etag)
    {
        var span = etag.AsSpan().Trim();
        if (span.StartsWith("W/", StringComparison.Ordinal)) span = span[2..];
        if (span.Length >= 2 && span[0] == '"' && span[^1] == '"') span = span[1..^1];
        return span;
    }
}
