namespace BlobStorage.Abstractions;

/// <summary>
/// The blob is in <see cref="StorageClass.ColdArchive"/>, which is offline as Azure's archive tier is: its content
/// cannot be read or copied until <see cref="IBlobStore.RehydrateAsync"/> has brought it to a readable class.
/// Its properties, metadata and listing stay available.
/// </summary>
public sealed class BlobArchivedException(string container, string name, StorageClass? rehydratingTo)
    : BlobStorageException(
        BlobErrorCode.BlobArchived,
        rehydratingTo is { } target
            ? $"Blob '{name}' in container '{container}' is in ColdArchive and offline; its rehydration to {target} completes at the next maintenance pass."
            : $"Blob '{name}' in container '{container}' is in ColdArchive and offline; call RehydrateAsync to bring it to a readable class first.")
{
    /// <summary>The container of the blob.</summary>
    public string Container { get; } = container;

    /// <summary>The blob's name.</summary>
    public string Name { get; } = name;

    /// <summary>The class a pending rehydration brings the blob to, or null when none was asked for.</summary>
    public StorageClass? RehydratingTo { get; } = rehydratingTo;
}
