using System.Text;
using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>The limits on tags and custom metadata, and how an update merges into what is stored.</summary>
internal static class MetadataRules
{
    public const int MaxTags = 10;
    public const int MaxTagKeyLength = 128;
    public const int MaxTagValueLength = 256;
    public const int MaxMetadataBytes = 8 * 1024;

    public static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public static IReadOnlyDictionary<string, string> ValidateTags(IReadOnlyDictionary<string, string>? tags, string paramName = "tags")
    {
        if (tags is null || tags.Count == 0) return Empty;
        if (tags.Count > MaxTags)
        {
            throw new ArgumentException($"A blob may carry at most {MaxTags} tags; {tags.Count} were given.", paramName);
        }

        var copy = new Dictionary<string, string>(tags.Count, StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            if (string.IsNullOrEmpty(key) || key.Length > MaxTagKeyLength)
            {
                throw new ArgumentException($"Tag keys must be 1 to {MaxTagKeyLength} characters; '{Shorten(key)}' has {key?.Length ?? 0}.", paramName);
            }

            if (value is null)
            {
                throw new ArgumentException($"Tag '{key}' has a null value; use an empty string.", paramName);
            }

            if (value.Length > MaxTagValueLength)
            {
                throw new ArgumentException($"Tag values must be at most {MaxTagValueLength} characters; the value of '{key}' has {value.Length}.", paramName);
            }

            CheckTagCharacters(key, "key", paramName);
            CheckTagCharacters(value, $"value of '{key}'", paramName);
            copy[key] = value;
        }

        return copy;
    }

    public static IReadOnlyDictionary<string, string> ValidateMetadata(IReadOnlyDictionary<string, string>? metadata, string paramName = "metadata")
    {
        if (metadata is null || metadata.Count == 0) return Empty;
        var copy = new Dictionary<string, string>(metadata.Count, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var total = 0;
        foreach (var (key, value) in metadata)
        {
            if (!IsIdentifier(key))
            {
                throw new ArgumentException($"Metadata keys must be identifiers (a letter or '_', then letters, digits or '_'); '{Shorten(key)}' is not.", paramName);
            }

            if (!seen.Add(key))
            {
                throw new ArgumentException($"Metadata keys compare without case; '{key}' is given twice.", paramName);
            }

            if (value is null)
            {
                throw new ArgumentException($"Metadata '{key}' has a null value; use an empty string.", paramName);
            }

            if (value.Any(char.IsControl) || !IsValidUnicode(value))
            {
                throw new ArgumentException($"The value of metadata '{key}' holds a control character or a lone surrogate.", paramName);
            }

            total += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
            copy[key] = value;
        }

        if (total > MaxMetadataBytes)
        {
            throw new ArgumentException($"Custom metadata may hold at most {MaxMetadataBytes} bytes of keys and values in all; {total} were given.", paramName);
        }

        return copy;
    }

    /// <summary>Applies an update to the stored dictionary: merge (null removes) or replace.</summary>
    public static IReadOnlyDictionary<string, string> Apply(
        IReadOnlyDictionary<string, string> current,
        IReadOnlyDictionary<string, string?>? change,
        MetadataUpdateMode mode,
        bool tags)
    {
        if (change is null) return current;
        var result = mode == MetadataUpdateMode.Replace
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var (key, value) in change)
        {
            if (value is null)
            {
                if (mode == MetadataUpdateMode.Replace)
                {
                    throw new ArgumentException($"A null value removes a key only when merging; '{key}' has one in a replace.", tags ? "update.Tags" : "update.Metadata");
                }

                result.Remove(key);
                if (!tags)
                {
                    // Metadata keys compare without case: removing 'Color' removes 'color'.
                    foreach (var existing in result.Keys.Where(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)).ToList())
                    {
                        result.Remove(existing);
                    }
                }
            }
            else
            {
                if (!tags)
                {
                    foreach (var existing in result.Keys.Where(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase) && k != key).ToList())
                    {
                        result.Remove(existing);
                    }
                }

                result[key] = value;
            }
        }

        return tags ? ValidateTags(result, "update.Tags") : ValidateMetadata(result, "update.Metadata");
    }

    /// <summary>Checks the shape of an update's keys before any store is touched.</summary>
    public static void ValidateUpdate(BlobMetadataUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.Tags is null && update.Metadata is null)
        {
            throw new ArgumentException("A metadata update must change the tags, the metadata or both; both are null.", nameof(update));
        }

        if (!Enum.IsDefined(update.Mode))
        {
            throw new ArgumentException($"Unknown metadata update mode {(int)update.Mode}.", nameof(update));
        }

        // Validate the non-null entries as they would be stored, so a bad key fails before the transaction.
        if (update.Tags is not null)
        {
            ValidateTags(update.Tags.Where(p => p.Value is not null).Take(MaxTags + 1).ToDictionary(p => p.Key, p => p.Value!), "update.Tags");
        }

        if (update.Metadata is not null)
        {
            ValidateMetadata(update.Metadata.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!), "update.Metadata");
            foreach (var key in update.Metadata.Keys)
            {
                if (!IsIdentifier(key))
                {
                    throw new ArgumentException($"Metadata keys must be identifiers; '{Shorten(key)}' is not.", "update.Metadata");
                }
            }
        }
    }

    public static void ValidateContentType(string? contentType, string paramName = "options.ContentType")
    {
        if (contentType is null) return;
        if (contentType.Length is 0 or > 256 || contentType.Any(c => char.IsControl(c) || c > '~'))
        {
            throw new ArgumentException("A content type must be 1 to 256 printable ASCII characters, such as 'text/plain; charset=utf-8'.", paramName);
        }
    }

    private static void CheckTagCharacters(string text, string what, string paramName)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is ' ' or '+' or '-' or '.' or '/' or ':' or '=' or '_'))
            {
                throw new ArgumentException($"Tag {what} may hold letters, digits, spaces and + - . / : = _ only; it holds U+{(int)c:X4}.", paramName);
            }
        }
    }

    private static bool IsIdentifier(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 256) return false;
        if (!(char.IsAsciiLetter(key[0]) || key[0] == '_')) return false;
        foreach (var c in key.AsSpan(1))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        }

        return true;
    }

    private static bool IsValidUnicode(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(value[i])) return false;
        }

        return true;
    }

    private static string Shorten(string? s) => s is null ? "(null)" : s.Length > 40 ? s[..40] + "…" : s;
}
