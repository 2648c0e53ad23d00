using BlobStorage.Abstractions;

namespace BlobStorage.Chunks;

/// <summary>
/// A chunk store that takes a chunk's bytes as they arrive, before its name is known: an upload then hands
/// each slice on while it is still in the core's cache and never holds a whole chunk in memory.
/// </summary>
internal interface IChunkStreamer
{
    /// <summary>Whether chunks of <paramref name="storageClass"/> can be written as they stream (false: compressed at rest, written only whole).</summary>
    bool CanStream(StorageClass storageClass);

    /// <summary>
    /// Starts a chunk of about <paramref name="expectedLength"/> bytes (its exact length when known; a draft of
    /// another length costs one more copy of its bytes at <see cref="ChunkDraft.CommitAsync"/>), in the form
    /// <paramref name="storageClass"/> asks for.
    /// </summary>
    ChunkDraft Begin(StorageClass storageClass, int expectedLength);
}
