namespace BlobStorage.Abstractions;

/// <summary>When a copy of a chunk on a node was last read back and found to match its id.</summary>
/// <param name="Chunk">The chunk.</param>
/// <param name="Node">The node holding the copy.</param>
/// <param name="VerifiedOn">When it was verified.</param>
public readonly record struct ChunkVerification(ChunkId Chunk, string Node, DateTimeOffset VerifiedOn);
