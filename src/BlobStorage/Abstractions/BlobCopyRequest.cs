namespace BlobStorage.Abstractions;

/// <summary>A copy the metadata store performs in one transaction.</summary>
public sealed class BlobCopyRequest
{
    /// <summary>The source container.</summary>
    public required string SourceContainer { get; init; }

    /// <summary>The source blob.</summary>
    public required string SourceName { get; init; }

    /// <summary>The destination container.</summary>
    public required string DestinationContainer { get; init; }

    /// <summary>The destination blob.</summary>
    public required string DestinationName { get; init; }

    /// <summary>The version id of the new blob.</summary>
    public required string VersionId { get; init; }

    /// <summary>The ETag of the new blob.</summary>
    public required string ETag { get; init; }

    /// <summary>The moment of the copy.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>Overrides and conditions.</summary>
    public required BlobCopyOptions Options { get; init; }
}
