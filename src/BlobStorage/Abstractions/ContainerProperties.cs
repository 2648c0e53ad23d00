namespace BlobStorage.Abstractions;

/// <summary>A container as stored.</summary>
public sealed class ContainerProperties
{
    /// <summary>The container's name.</summary>
    public required string Name { get; init; }

    /// <summary>The storage class of blobs uploaded without one.</summary>
    public StorageClass DefaultStorageClass { get; init; }

    /// <summary>How the container's chunks are replicated.</summary>
    public ReplicationStrategy ReplicationStrategy { get; init; }

    /// <summary>Who may read the container's blobs through URLs.</summary>
    public AccessPolicy AccessPolicy { get; init; }

    /// <summary>When the container was created.</summary>
    public DateTimeOffset CreatedOn { get; init; }
}
