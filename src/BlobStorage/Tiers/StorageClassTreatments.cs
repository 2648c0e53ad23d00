using BlobStorage.Abstractions;

namespace BlobStorage.Tiers;

/// <summary>The compression of each storage class, copied from the options when the store is made (the options may change later; this does not).</summary>
internal sealed class StorageClassTreatments
{
    private readonly ChunkCompression[] _compression = new ChunkCompression[4];

    /// <summary>The defaults: the two archive classes compressed, the two hot ones raw.</summary>
    public static StorageClassTreatments Default { get; } = new(BlobStorageOptions.DefaultStorageClasses());

    public StorageClassTreatments(IReadOnlyDictionary<StorageClass, StorageClassOptions> classes)
    {
        foreach (var (storageClass, options) in classes)
        {
            if ((uint)storageClass < (uint)_compression.Length) _compression[(int)storageClass] = options.Compression;
        }
    }

    public ChunkCompression CompressionOf(StorageClass storageClass) =>
        (uint)storageClass < (uint)_compression.Length ? _compression[(int)storageClass] : ChunkCompression.None;
}
