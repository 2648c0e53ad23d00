namespace BlobStorage.Tiers;

/// <summary>How the store treats the chunks of one <see cref="Abstractions.StorageClass"/>; see <see cref="BlobStorageOptions.StorageClasses"/>.</summary>
public sealed class StorageClassOptions
{
    /// <summary>
    /// Whether chunks written for this class are compressed at rest. Defaults: <see cref="ChunkCompression.None"/>
    /// for <c>Standard</c> and <c>InfrequentAccess</c>, <see cref="ChunkCompression.Brotli"/> for <c>Archive</c>
    /// and <c>ColdArchive</c>. A chunk is stored once whatever the classes of the blobs that hold it
    /// (deduplication works across classes); it keeps the form it was first written in until
    /// <c>IBlobStore.SetStorageClassAsync</c> moves a blob holding it, and every form reads back the same bytes.
    /// </summary>
    public ChunkCompression Compression { get; set; }
}
