namespace BlobStorage.Abstractions;

/// <summary>A multipart upload in progress.</summary>
public sealed class MultipartUpload
{
    /// <summary>The id that names the upload in every later call.</summary>
    public required string UploadId { get; init; }

    /// <summary>The container the blob will be in.</summary>
    public required string Container { get; init; }

    /// <summary>The name the blob will have.</summary>
    public required string Name { get; init; }

    /// <summary>The finished blob's media type.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>The finished blob's storage class.</summary>
    public StorageClass StorageClass { get; init; }

    /// <summary>The finished blob's tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The finished blob's custom metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Conditions checked when the upload completes, or null.</summary>
    public BlobRequestConditions? Conditions { get; init; }

    /// <summary>When the upload was started.</summary>
    public DateTimeOffset StartedOn { get; init; }

    /// <summary>How many parts have been uploaded so far.</summary>
    public int PartCount { get; init; }

    /// <summary>The bytes of those parts.</summary>
    public long BytesUploaded { get; init; }
}
