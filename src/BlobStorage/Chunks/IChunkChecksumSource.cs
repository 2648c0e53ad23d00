using BlobStorage.Abstractions;

namespace BlobStorage.Chunks;

/// <summary>A chunk store that can tell the fast checksum it stored with a chunk, for <see cref="IBlobStore.GetLocationsAsync"/>.</summary>
internal interface IChunkChecksumSource
{
    /// <summary>The stored checksum of the chunk; null when it is not stored or its format keeps none this code knows.</summary>
    ulong? ReadStoredChecksum(ChunkId id);
}
