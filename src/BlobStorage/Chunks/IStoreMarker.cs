namespace BlobStorage.Chunks;

/// <summary>
/// A chunk store that keeps the id of the store it belongs to beside its chunks, so that the store can
/// refuse to open over metadata that did not write them (see <see cref="Internal.StoreIdentityCheck"/>).
/// </summary>
internal interface IStoreMarker
{
    /// <summary>Where the chunks are, for messages: a folder, a bucket.</summary>
    string Location { get; }

    /// <summary>The id in the marker; null when there is no marker.</summary>
    /// <exception cref="Abstractions.BlobStorageException">The marker cannot be read or holds no valid id.</exception>
    string? ReadStoreId();

    /// <summary>Writes the marker durably. Only called when there is none.</summary>
    void WriteStoreId(string storeId);
}
