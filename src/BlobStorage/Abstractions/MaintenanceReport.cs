namespace BlobStorage.Abstractions;

/// <summary>What one maintenance pass did.</summary>
public sealed class MaintenanceReport
{
    /// <summary>Chunks removed after their grace period.</summary>
    public long ChunksCollected { get; init; }

    /// <summary>Bytes those chunks held.</summary>
    public long BytesReclaimed { get; init; }

    /// <summary>Chunk files no metadata referred to (left by a crash or a failed upload) that were removed.</summary>
    public long OrphansRemoved { get; init; }

    /// <summary>Multipart uploads aborted because they were older than <c>AbortIncompleteMultipartUploadsAfter</c>.</summary>
    public long MultipartUploadsAborted { get; init; }

    /// <summary>Access counts written to the metadata store.</summary>
    public long AccessRecordsFlushed { get; init; }
}
