namespace BlobStorage.Abstractions;

/// <summary>
/// What a listing reads beyond a blob's system properties, as Azure's <c>BlobTraits</c>: tags and
/// custom metadata cost a read and a parse per blob, so a listing returns them only when asked.
/// </summary>
[Flags]
public enum BlobListTraits
{
    /// <summary>System properties only; listed blobs carry empty <see cref="BlobProperties.Tags"/> and <see cref="BlobProperties.Metadata"/>.</summary>
    None = 0,

    /// <summary>Each listed blob carries its custom <see cref="BlobProperties.Metadata"/>.</summary>
    Metadata = 1,

    /// <summary>Each listed blob carries its index <see cref="BlobProperties.Tags"/>.</summary>
    Tags = 2,

    /// <summary>Both metadata and tags.</summary>
    All = Metadata | Tags,
}
