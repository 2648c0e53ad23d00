namespace BlobStorage.Abstractions;

/// <summary>One entry of a blob's chunk list: which chunk, and how many bytes it holds.</summary>
/// <param name="Id">The chunk's id: the hash of its bytes (see <see cref="ChunkId"/>).</param>
/// <param name="Length">The chunk's length in bytes.</param>
public readonly record struct ChunkReference(ChunkId Id, int Length);
