using BlobStorage.Abstractions;

namespace BlobStorage.Chunks;

/// <summary>Writes through <see cref="ITieredChunkStore"/> when a store is one, and as a plain write otherwise.</summary>
internal static class TieredChunkWrites
{
    /// <summary>Writes a chunk in the form its storage class asks for.</summary>
    public static ValueTask<bool> WriteAsync(this IChunkStore store, ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken) =>
        store is ITieredChunkStore tiered
            ? tiered.WriteAsync(id, content, storageClass, cancellationToken)
            : store.WriteAsync(id, content, cancellationToken);

    /// <summary>Stages a chunk in the form its storage class asks for.</summary>
    public static ValueTask<Task?> StageAsync(this IChunkStager stager, ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken) =>
        stager is ITieredChunkStore tiered
            ? tiered.StageAsync(id, content, storageClass, cancellationToken)
            : stager.StageAsync(id, content, cancellationToken);
}
