namespace BlobStorage.Chunks.Objects;

/// <summary>The rule for the key prefix a chunk store in a bucket or container keeps its objects under.</summary>
internal static class ObjectKeyPrefix
{
    /// <summary>The longest prefix allowed; object keys add 73 characters to it.</summary>
    public const int MaxLength = 256;

    /// <summary>
    /// Checks <paramref name="prefix"/> and returns it ending in <c>/</c> (empty for none).
    /// A prefix is ASCII letters, digits, <c>-</c>, <c>_</c>, <c>.</c> and <c>/</c> between segments, at most
    /// <see cref="MaxLength"/> characters, with no leading <c>/</c> and no empty, <c>.</c> or <c>..</c> segment.
    /// </summary>
    /// <exception cref="ArgumentException">The prefix breaks the rule; the message says which part.</exception>
    public static string Normalize(string? prefix, string setting)
    {
        if (string.IsNullOrEmpty(prefix)) return "";
        if (prefix.Length > MaxLength)
            throw new ArgumentException($"{setting} is {prefix.Length} characters long; a key prefix is at most {MaxLength}.", setting);
        foreach (var c in prefix)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or '/'))
                throw new ArgumentException($"{setting} '{prefix}' holds '{c}': a key prefix is ASCII letters, digits, '-', '_', '.' and '/' between segments.", setting);
        }

        var trimmed = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        foreach (var segment in trimmed.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
                throw new ArgumentException($"{setting} '{prefix}' has an empty, '.' or '..' segment (or starts with '/'); write it as segments such as 'blobstorage/store-1'.", setting);
        }

        return trimmed + "/";
    }
}
