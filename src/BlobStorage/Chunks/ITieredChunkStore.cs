using BlobStorage.Abstractions;
using BlobStorage.Tiers;

namespace BlobStorage.Chunks;

/// <summary>
/// A chunk store that treats chunks by the storage class they are written for: compressed at rest for the
/// classes whose <see cref="StorageClassOptions.Compression"/> asks for it. A chunk is one chunk whatever its
/// form: a write finds it stored raw or compressed and writes nothing (deduplication across classes), and a
/// read returns the same verified bytes from either form.
/// </summary>
internal interface ITieredChunkStore
{
    /// <summary>What each class asks of its chunks; the store's owner sets it from the options.</summary>
    StorageClassTreatments Treatments { get; set; }

    /// <summary><see cref="IChunkStore.WriteAsync"/>, in the form <paramref name="storageClass"/> asks for.</summary>
    ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken);

    /// <summary><see cref="IChunkStager.StageAsync"/>, in the form <paramref name="storageClass"/> asks for.</summary>
    ValueTask<Task?> StageAsync(ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the stored chunk take the form <paramref name="storageClass"/> asks for: a chunk stored in another
    /// form is written again from <paramref name="content"/> (its verified bytes) and replaces the old file
    /// atomically, so readers of any blob that shares it see old form or new, never neither. Returns true when
    /// the file was rewritten.
    /// </summary>
    ValueTask<bool> RewriteAsync(ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken);
}
