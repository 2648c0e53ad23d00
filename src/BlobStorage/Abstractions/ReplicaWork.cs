namespace BlobStorage.Abstractions;

/// <summary>
/// A copy owed to a node, waiting in the metadata store's replication queue: a copy in another region,
/// or a local copy an upload could not write (it returned once a quorum was durable).
/// </summary>
/// <param name="Chunk">The chunk to copy.</param>
/// <param name="Node">The name of the node owed the copy.</param>
/// <param name="Length">The chunk's length in bytes.</param>
/// <param name="EnqueuedOn">When the copy was queued.</param>
/// <param name="Attempts">Failed attempts so far.</param>
/// <param name="NextAttemptOn">When the copy may be tried next.</param>
/// <param name="LastError">Why the last attempt failed, or null.</param>
public sealed record ReplicaWork(ChunkId Chunk, string Node, int Length, DateTimeOffset EnqueuedOn, int Attempts, DateTimeOffset NextAttemptOn, string? LastError);
