namespace BlobStorage.Abstractions;

/// <summary>What <see cref="IBlobStore.BackupAsync"/> did.</summary>
public sealed record BackupReport
{
    /// <summary>The folder the backup is in, in full.</summary>
    public required string Destination { get; init; }

    /// <summary>The store's id, which the backup keeps (a backup opens as the same store).</summary>
    public required string StoreId { get; init; }

    /// <summary>True when the destination held an earlier backup of this store and only what changed was copied.</summary>
    public bool Incremental { get; init; }

    /// <summary>Blobs in the backup: those committed before its snapshot.</summary>
    public long Blobs { get; init; }

    /// <summary>Chunk files the backup refers to.</summary>
    public long Chunks { get; init; }

    /// <summary>Chunk files hard-linked from the store (same file system): no byte copied.</summary>
    public long ChunksLinked { get; init; }

    /// <summary>Chunk files copied and flushed.</summary>
    public long ChunksCopied { get; init; }

    /// <summary>Chunk files an earlier backup already held.</summary>
    public long ChunksAlreadyPresent { get; init; }

    /// <summary>Chunk files of an earlier backup that the new one no longer refers to, deleted once its metadata was durable.</summary>
    public long ChunksRemoved { get; init; }

    /// <summary>Bytes copied (chunk files and the metadata snapshot); links count none.</summary>
    public long BytesCopied { get; init; }
}
