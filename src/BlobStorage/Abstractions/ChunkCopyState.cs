namespace BlobStorage.Abstractions;

/// <summary>What a node holds of a copy placement gives it.</summary>
public enum ChunkCopyState
{
    /// <summary>The node holds the copy.</summary>
    Present = 0,

    /// <summary>The copy is owed to the node and waits in the replication queue.</summary>
    Queued = 1,

    /// <summary>The node does not hold the copy and none is queued; a scrub or rebalance writes it.</summary>
    Missing = 2,

    /// <summary>The node could not be asked (unreachable, refused).</summary>
    Unknown = 3,
}
