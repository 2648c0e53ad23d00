namespace BlobStorage.Abstractions;

/// <summary>A part of a multipart upload as stored.</summary>
public sealed class UploadedPart
{
    /// <summary>The part's number, 1 to 10,000.</summary>
    public int PartNumber { get; init; }

    /// <summary>The part's ETag, quoted; name it when completing the upload.</summary>
    public required string ETag { get; init; }

    /// <summary>The part's length in bytes.</summary>
    public long Size { get; init; }

    /// <summary>The SHA-256 of the part's bytes as 64 lowercase hexadecimal characters.</summary>
    public required string ContentHash { get; init; }

    /// <summary>When the part was uploaded.</summary>
    public DateTimeOffset UploadedOn { get; init; }
}
