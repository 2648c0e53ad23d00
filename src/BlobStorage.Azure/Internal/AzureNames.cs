namespace BlobStorage.Azure.Internal;

/// <summary>Azure Blob Storage's naming rule for containers, and the validation of the options.</summary>
internal static class AzureNames
{
    /// <summary>Null when <paramref name="name"/> is a valid container name; otherwise what is wrong with it.</summary>
    public static string? ContainerNameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "it is empty";
        if (name.Length is < 3 or > 63) return $"it is {name.Length} characters long; a container name is 3 to 63";
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-') return $"it holds '{c}'; a container name is lowercase letters, digits and hyphens";
        }

        if (name[0] == '-' || name[^1] == '-') return "it starts or ends with a hyphen; a container name starts and ends with a letter or digit";
        if (name.Contains("--", StringComparison.Ordinal)) return "it holds two hyphens in a row; every hyphen must stand between letters or digits";
        return null;
    }

    /// <summary>Checks the options; the message names the setting and the rule broken.</summary>
    /// <exception cref="ArgumentException">A setting is out of its range.</exception>
    public static string Validate(AzureBlobChunkStoreOptions options, string? containerName, bool needsConnectionString)
    {
        const string Setting = nameof(AzureBlobChunkStoreOptions);
        if (needsConnectionString && string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new ArgumentException($"{Setting}.{nameof(options.ConnectionString)} is empty: give the storage account's connection string, or pass a BlobContainerClient.", nameof(options));
        if (ContainerNameProblem(containerName) is { } problem)
            throw new ArgumentException($"{Setting}.{nameof(options.ContainerName)} '{containerName}' is not a valid container name: {problem}.", nameof(options));
        if (options.MaxRetryAttempts is < 0 or > 20)
            throw new ArgumentException($"{Setting}.{nameof(options.MaxRetryAttempts)} must be 0 to 20; it is {options.MaxRetryAttempts}.", nameof(options));
        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"{Setting}.{nameof(options.RetryDelay)} must be zero to a minute; it is {options.RetryDelay}.", nameof(options));
        if (options.RequestTimeout < TimeSpan.FromMilliseconds(10) || options.RequestTimeout > TimeSpan.FromDays(1))
            throw new ArgumentException($"{Setting}.{nameof(options.RequestTimeout)} must be 10 ms to a day; it is {options.RequestTimeout}.", nameof(options));
        return Chunks.Objects.ObjectKeyPrefix.Normalize(options.Prefix, $"{Setting}.{nameof(options.Prefix)}");
    }
}
