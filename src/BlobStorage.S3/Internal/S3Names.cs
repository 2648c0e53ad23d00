using System.Net;

namespace BlobStorage.S3.Internal;

/// <summary>S3's naming rule for buckets, and the validation of the options.</summary>
internal static class S3Names
{
    /// <summary>Null when <paramref name="name"/> is a valid bucket name; otherwise what is wrong with it.</summary>
    public static string? BucketNameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "it is empty";
        if (name.Length is < 3 or > 63) return $"it is {name.Length} characters long; a bucket name is 3 to 63";
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('-' or '.')) return $"it holds '{c}'; a bucket name is lowercase letters, digits, dots and hyphens";
        }

        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1])) return "it starts or ends with a dot or hyphen; a bucket name starts and ends with a letter or digit";
        if (name.Contains("..", StringComparison.Ordinal)) return "it holds two dots in a row";
        if (IPAddress.TryParse(name, out _) && name.Count(c => c == '.') == 3) return "it is written as an IP address";
        if (name.StartsWith("xn--", StringComparison.Ordinal) || name.StartsWith("sthree-", StringComparison.Ordinal)) return "it starts with a prefix S3 reserves ('xn--', 'sthree-')";
        if (name.EndsWith("-s3alias", StringComparison.Ordinal) || name.EndsWith("--ol-s3", StringComparison.Ordinal)) return "it ends with a suffix S3 reserves ('-s3alias', '--ol-s3')";
        return null;
    }

    /// <summary>Checks the options; the message names the setting and the rule broken. Returns the normalized key prefix.</summary>
    /// <exception cref="ArgumentException">A setting is out of its range.</exception>
    public static string Validate(S3ChunkStoreOptions options, bool connects)
    {
        const string Setting = nameof(S3ChunkStoreOptions);
        if (BucketNameProblem(options.BucketName) is { } problem)
            throw new ArgumentException($"{Setting}.{nameof(options.BucketName)} '{options.BucketName}' is not a valid bucket name: {problem}.", nameof(options));
        if (options.MaxRetryAttempts is < 0 or > 20)
            throw new ArgumentException($"{Setting}.{nameof(options.MaxRetryAttempts)} must be 0 to 20; it is {options.MaxRetryAttempts}.", nameof(options));
        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"{Setting}.{nameof(options.RetryDelay)} must be zero to a minute; it is {options.RetryDelay}.", nameof(options));
        if (options.RequestTimeout < TimeSpan.FromMilliseconds(10) || options.RequestTimeout > TimeSpan.FromDays(1))
            throw new ArgumentException($"{Setting}.{nameof(options.RequestTimeout)} must be 10 ms to a day; it is {options.RequestTimeout}.", nameof(options));
        if (connects)
        {
            if (options.ServiceUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
                throw new ArgumentException($"{Setting}.{nameof(options.ServiceUrl)} '{url}' must be an absolute http or https address.", nameof(options));
            if (string.IsNullOrWhiteSpace(options.Region))
                throw new ArgumentException($"{Setting}.{nameof(options.Region)} is empty; name the region (us-east-1 for most S3-compatible servers).", nameof(options));
            if (string.IsNullOrEmpty(options.AccessKey) != string.IsNullOrEmpty(options.SecretKey))
                throw new ArgumentException($"{Setting}.{nameof(options.AccessKey)} and {nameof(options.SecretKey)} go together: set both, or neither to use the SDK's default credentials.", nameof(options));
        }

        return Chunks.Objects.ObjectKeyPrefix.Normalize(options.KeyPrefix, $"{Setting}.{nameof(options.KeyPrefix)}");
    }
}
