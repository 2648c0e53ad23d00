namespace BlobStorage.Abstractions;

/// <summary>Where every copy of every chunk of a blob's current version is: returned by <see cref="IBlobStore.GetLocationsAsync"/>.</summary>
public sealed class BlobLocations
{
    /// <summary>The container.</summary>
    public required string Container { get; init; }

    /// <summary>The blob's name.</summary>
    public required string Name { get; init; }

    /// <summary>The version described.</summary>
    public required string VersionId { get; init; }

    /// <summary>The container's strategy.</summary>
    public ReplicationStrategy ReplicationStrategy { get; init; }

    /// <summary>The blob's storage class.</summary>
    public StorageClass StorageClass { get; init; }

    /// <summary>
    /// True when the blob is kept inside the metadata store (a small blob of a <see cref="ReplicationStrategy.Single"/>
    /// container): it has no chunk copies, and <see cref="Copies"/> is empty.
    /// </summary>
    public bool IsInline { get; init; }

    /// <summary>True when every copy placement asks for is present: none is queued or missing.</summary>
    public bool IsFullyReplicated { get; init; }

    /// <summary>Every copy of every chunk, by chunk, then primary first, then local before remote.</summary>
    public IReadOnlyList<ChunkCopyLocation> Copies { get; init; } = [];
}
