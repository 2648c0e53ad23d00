using BlobStorage.Abstractions;

namespace BlobStorage.Replication;

/// <summary>One node of a region in <see cref="StorageTopologyOptions"/>: a folder (typically on its own disk) or any <see cref="IChunkStore"/>.</summary>
public sealed class StorageNodeOptions
{
    /// <summary>
    /// The node's stable name, unique across the topology: 1 to 63 letters, digits, '-', '_' or '.'.
    /// Placement hashes it, so renaming a node moves its chunks (a rebalance pass moves them back into place).
    /// </summary>
    public string Name { get; set; } = "";

    /// <summary>The folder that holds the node's chunk files (a <c>FileSystemChunkStore</c>). Set this or <see cref="Store"/>, not both.</summary>
    public string? Path { get; set; }

    /// <summary>A chunk store of your own for the node (a cloud bucket, say). The caller disposes it. Set this or <see cref="Path"/>, not both.</summary>
    public IChunkStore? Store { get; set; }

    /// <summary>
    /// True for a cold-tier node: copies of <see cref="StorageClass.Archive"/> and <see cref="StorageClass.ColdArchive"/>
    /// blobs go to the cold nodes of a region first; <see cref="StorageClass.Standard"/> and
    /// <see cref="StorageClass.InfrequentAccess"/> copies go to its hot nodes first. Default false.
    /// </summary>
    public bool IsCold { get; set; }
}
