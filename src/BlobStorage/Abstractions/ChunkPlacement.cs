namespace BlobStorage.Abstractions;

/// <summary>
/// What decides where and how a chunk's copies are kept: the container's <see cref="ReplicationStrategy"/>
/// (how many copies, in which regions) and the blob's <see cref="StorageClass"/> (which tier of nodes, and
/// how the bytes are treated at rest).
/// </summary>
/// <param name="Strategy">How many copies, and in which regions.</param>
/// <param name="StorageClass">The tier the copies belong to.</param>
public readonly record struct ChunkPlacement(ReplicationStrategy Strategy, StorageClass StorageClass)
{
    /// <summary>One copy of a <see cref="Abstractions.StorageClass.Standard"/> chunk.</summary>
    public static ChunkPlacement Default => new(ReplicationStrategy.Single, StorageClass.Standard);
}
