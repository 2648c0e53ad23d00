namespace BlobStorage.Abstractions;

/// <summary>Settings of a new container.</summary>
public sealed class ContainerOptions
{
    /// <summary>The storage class of blobs uploaded without one. Default <see cref="StorageClass.Standard"/>.</summary>
    public StorageClass DefaultStorageClass { get; init; } = StorageClass.Standard;

    /// <summary>How the container's chunks are replicated. Default <see cref="ReplicationStrategy.Single"/>.</summary>
    public ReplicationStrategy ReplicationStrategy { get; init; } = ReplicationStrategy.Single;

    /// <summary>Who may read the container's blobs through URLs. Default <see cref="AccessPolicy.Private"/>.</summary>
    public AccessPolicy AccessPolicy { get; init; } = AccessPolicy.Private;
}
