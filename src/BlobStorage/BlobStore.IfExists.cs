using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage;

/// <summary>The Azure SDK's "if exists" and "exists" conveniences, answered from the same calls as the strict ones.</summary>
internal sealed partial class BlobStore
{
    public async Task<ContainerProperties?> CreateContainerIfNotExistsAsync(string name, ContainerOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        if (await _metadata.GetContainerAsync(name, cancellationToken).ConfigureAwait(false) is not null) return null;
        try
        {
            return await CreateContainerAsync(name, options, cancellationToken).ConfigureAwait(false);
        }
        catch (ContainerAlreadyExistsException)
        {
            // Another caller created it between the look and the create: its container is the one asked for.
            return null;
        }
    }

    public async Task<bool> ContainerExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return await _metadata.GetContainerAsync(name, cancellationToken).ConfigureAwait(false) is not null;
    }

    public async Task<bool> DeleteContainerIfExistsAsync(string name, bool deleteContents = false, CancellationToken cancellationToken = default)
    {
        try
        {
            await DeleteContainerAsync(name, deleteContents, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ContainerNotFoundException)
        {
            return false;
        }
    }

    public async Task<bool> ExistsAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false) is not null;
    }

    public async Task<bool> DeleteIfExistsAsync(string container, string name, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default)
    {
        try
        {
            await DeleteAsync(container, name, conditions, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (BlobStorageException ex) when (ex is BlobNotFoundException or ContainerNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The download with its stream reporting progress, when the options ask for it.</summary>
    private static BlobDownload WithProgress(BlobDownload download, BlobDownloadOptions options) =>
        options.Progress is { } progress
            ? new BlobDownload(download.Properties, new ProgressStream(download.Content, progress, download.Length), download.Offset, download.Length)
            : download;
}
