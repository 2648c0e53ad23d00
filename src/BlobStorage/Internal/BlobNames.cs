using System.Text;

namespace BlobStorage.Internal;

/// <summary>
/// The naming rules (docs/architecture.md, "Names"). A name is checked at every public entry point; it never becomes a
/// file path (chunks are stored by hash), the rules keep every name safe in a URL path.
/// </summary>
internal static class BlobNames
{
    public const int MaxBlobNameBytes = 1024;

    public static void ValidateContainerName(string? name, string paramName = "container")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length is < 3 or > 63)
        {
            throw new ArgumentException($"Container name '{Printable(name)}' must be 3 to 63 characters long; it has {name.Length}.", paramName);
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var isLetterOrDigit = c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
            if (isLetterOrDigit) continue;
            if (c != '-')
            {
                throw new ArgumentException($"Container name '{Printable(name)}' may hold only lowercase letters a-z, digits and hyphens; '{Printable(c.ToString())}' at position {i} is none of these.", paramName);
            }

            if (i == 0 || i == name.Length - 1)
            {
                throw new ArgumentException($"Container name '{Printable(name)}' must start and end with a letter or digit, not a hyphen.", paramName);
            }

            if (name[i - 1] == '-')
            {
                throw new ArgumentException($"Container name '{Printable(name)}' must not hold two hyphens in a row (position {i}).", paramName);
            }
        }
    }

    public static void ValidateBlobName(string? name, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length == 0)
        {
            throw new ArgumentException("A blob name must not be empty.", paramName);
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
                {
                    i++;
                    continue;
                }

                throw new ArgumentException($"Blob name '{Printable(name)}' holds a lone high surrogate at position {i}: names must be valid Unicode.", paramName);
            }

            if (char.IsLowSurrogate(c))
            {
                throw new ArgumentException($"Blob name '{Printable(name)}' holds a lone low surrogate at position {i}: names must be valid Unicode.", paramName);
            }

            if (char.IsControl(c))
            {
                throw new ArgumentException($"Blob name '{Printable(name)}' holds control character U+{(int)c:X4} at position {i}; control characters are not allowed.", paramName);
            }

            if (c == '\\')
            {
                throw new ArgumentException($"Blob name '{Printable(name)}' holds a backslash at position {i}; use '/' to separate segments.", paramName);
            }
        }

        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxBlobNameBytes)
        {
            throw new ArgumentException($"Blob name is {bytes} bytes of UTF-8; at most {MaxBlobNameBytes} are allowed.", paramName);
        }

        if (name[0] == '/')
        {
            throw new ArgumentException($"Blob name '{Printable(name)}' must not start with '/'.", paramName);
        }

        if (name[^1] is '/' or '.')
        {
            throw new ArgumentException($"Blob name '{Printable(name)}' must not end with '{name[^1]}'.", paramName);
        }

        foreach (var range in name.AsSpan().Split('/'))
        {
            var segment = name.AsSpan()[range];
            if (segment.Length == 0)
            {
                throw new ArgumentException($"Blob name '{Printable(name)}' holds an empty segment ('//').", paramName);
            }

            if (segment is "." or "..")
            {
                throw new ArgumentException($"Blob name '{Printable(name)}' holds a '{segment}' segment; '.' and '..' segments are not allowed.", paramName);
            }
        }
    }

    /// <summary>Orders names as the store lists them: by their UTF-8 bytes, which is Unicode code point order.</summary>
    public static int CompareOrdinalUtf8(string? a, string? b)
    {
        if (ReferenceEquals(a, b)) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        return Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
    }

    /// <summary>The comparer for <see cref="CompareOrdinalUtf8"/>.</summary>
    public static IComparer<string> Utf8Comparer { get; } = Comparer<string>.Create(CompareOrdinalUtf8);

    /// <summary>
    /// The smallest byte string greater than every string that starts with <paramref name="prefix"/>,
    /// or null when there is none (the prefix is all 0xFF bytes).
    /// </summary>
    public static byte[]? PrefixUpperBound(ReadOnlySpan<byte> prefix)
    {
        var end = prefix.Length;
        while (end > 0 && prefix[end - 1] == 0xFF) end--;
        if (end == 0) return null;
        var bound = prefix[..end].ToArray();
        bound[^1]++;
        return bound;
    }

    /// <summary>The smallest byte string greater than <paramref name="name"/>: the name followed by a zero byte.</summary>
    public static byte[] Successor(ReadOnlySpan<byte> name)
    {
        var next = new byte[name.Length + 1];
        name.CopyTo(next);
        return next;
    }

    // Error messages must stay readable and printable whatever the input held.
    private static string Printable(string value)
    {
        const int max = 80;
        var sb = new StringBuilder(Math.Min(value.Length, max) + 8);
        foreach (var c in value.Length > max ? value[..max] : value)
        {
            if (char.IsControl(c) || char.IsSurrogate(c)) sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else sb.Append(c);
        }

        if (value.Length > max) sb.Append('…');
        return sb.ToString();
    }
}
