namespace BlobStorage.Abstractions;

/// <summary>What the blob a multipart upload finishes as will carry, and when to refuse completing it.</summary>
public sealed class MultipartUploadOptions
{
    /// <summary>The finished blob's media type. Default <c>application/octet-stream</c>.</summary>
    public string? ContentType { get; init; }

    /// <summary>The finished blob's storage class; the container's default when null.</summary>
    public StorageClass? StorageClass { get; init; }

    /// <summary>The finished blob's tags.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The finished blob's custom metadata.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Conditions on the blob, checked atomically when the upload completes.</summary>
    public BlobRequestConditions? Conditions { get; init; }
}
