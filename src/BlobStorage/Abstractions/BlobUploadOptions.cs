namespace BlobStorage.Abstractions;

/// <summary>What to store with an upload and when to refuse it.</summary>
public sealed class BlobUploadOptions
{
    /// <summary>The content's media type. Default <c>application/octet-stream</c>.</summary>
    public string? ContentType { get; init; }

    /// <summary>The storage class; the container's default when null.</summary>
    public StorageClass? StorageClass { get; init; }

    /// <summary>Index tags: at most 10, keys up to 128 and values up to 256 characters.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Custom metadata: keys are identifiers, at most 8 KiB of keys and values in all.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Conditions checked atomically when the upload commits.</summary>
    public BlobRequestConditions? Conditions { get; init; }

    /// <summary>The SHA-256 the content must have, as 64 hexadecimal characters; a mismatch stores nothing.</summary>
    public string? ExpectedContentHash { get; init; }

    /// <summary>Receives the number of bytes read from the content so far, at least every MiB and at the end.</summary>
    public IProgress<long>? Progress { get; init; }
}
