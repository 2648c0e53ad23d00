namespace BlobStorage.Abstractions;

/// <summary>A completion the metadata store performs in one transaction.</summary>
public sealed class MultipartCompletion
{
    /// <summary>The upload to complete.</summary>
    public required string UploadId { get; init; }

    /// <summary>The parts, in strictly ascending part number, each with its ETag.</summary>
    public required IReadOnlyList<CompletedPart> Parts { get; init; }

    /// <summary>Every part but the last must hold at least this many bytes.</summary>
    public required long MinimumPartSize { get; init; }

    /// <summary>The version id of the finished blob.</summary>
    public required string VersionId { get; init; }

    /// <summary>The moment of completion.</summary>
    public required DateTimeOffset Now { get; init; }
}
