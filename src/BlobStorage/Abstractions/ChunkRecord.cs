namespace BlobStorage.Abstractions;

/// <summary>A chunk as the metadata store counts it.</summary>
/// <param name="Id">The chunk's id: the hash of its bytes (see <see cref="ChunkId"/>).</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="ReferenceCount">How many chunk-list entries of blobs (and later, multipart parts) name it.</param>
public sealed record ChunkRecord(ChunkId Id, int Length, long ReferenceCount);
