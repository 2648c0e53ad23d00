namespace BlobStorage.Tiers;

/// <summary>How a storage class keeps its chunks at rest.</summary>
public enum ChunkCompression
{
    /// <summary>Chunks are stored as they are: the fastest reads.</summary>
    None = 0,

    /// <summary>
    /// Chunks are compressed with Brotli (the BCL's <c>System.IO.Compression</c>) when that saves at least an
    /// eighth of their size; a chunk that does not compress (media, archives, encrypted data) stays raw.
    /// </summary>
    Brotli = 1,
}
