using System.IO.Pipelines;
using Azure.Storage.Blobs;
using BlobStorage.Abstractions;
using BlobStorage.Azure.Internal;
using BlobStorage.Chunks;
using BlobStorage.Chunks.Objects;

namespace BlobStorage.Azure;

/// <summary>
/// Keeps chunks in an Azure Blob Storage container (or Azurite): each chunk a block blob
/// <c>{prefix}chunks/ab/abcd…</c> named by its id (see <see cref="ChunkId"/>) and sharded by its first byte, in the folder store's
/// <c>BSCHUNK2</c> layout (a header, an XxHash3 per 64 KiB block, the content), so every read is verified block by block
/// and a range downloads only the blocks it covers. A chunk is created once (<c>If-None-Match: *</c>); the store's marker
/// is the blob <c>{prefix}store-id</c>. Transient failures are retried with exponential backoff and jitter; what is left
/// of them, a missing container and refused credentials are <see cref="BlobErrorCode.StoreUnavailable"/> errors.
/// </summary>
/// <remarks>
/// Use it as the store's only chunk store (<c>UseAzureBlobChunkStore</c>) or as a node of a region
/// (<c>o.Topology.AddNode(region, name, store)</c>), so a <see cref="ReplicationStrategy.CrossRegion"/> container can keep
/// its remote copy in a container. The container must exist; the store never creates or deletes it.
/// </remarks>
public sealed class AzureBlobChunkStore : IChunkStore, IStoreMarker
{
    private readonly ObjectChunkStore _chunks;

    /// <summary>Opens the store in the container <see cref="AzureBlobChunkStoreOptions.ContainerName"/> of the account <see cref="AzureBlobChunkStoreOptions.ConnectionString"/> names.</summary>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    /// <exception cref="BlobStorageException">The connection string cannot be used (<see cref="BlobErrorCode.StoreUnavailable"/>).</exception>
    public AzureBlobChunkStore(AzureBlobChunkStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var prefix = AzureNames.Validate(options, options.ContainerName, needsConnectionString: true);
        BlobContainerClient container;
        try
        {
            // The store's own retries replace the client's, so the attempts are the ones the options say.
            var clientOptions = new BlobClientOptions();
            clientOptions.Retry.MaxRetries = 0;
            clientOptions.Retry.NetworkTimeout = options.RequestTimeout;
            container = new BlobContainerClient(options.ConnectionString, options.ContainerName, clientOptions);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"{nameof(AzureBlobChunkStoreOptions)}.{nameof(AzureBlobChunkStoreOptions.ConnectionString)} cannot be used: {ex.Message}", ex);
        }

        _chunks = new ObjectChunkStore(new AzureObjectBucket(container, options), prefix);
    }

    /// <summary>
    /// Opens the store in a container you configured yourself (credentials, transport). Its own retry policy runs inside the
    /// store's: set its <c>Retry.MaxRetries</c> to 0 to let <see cref="AzureBlobChunkStoreOptions.MaxRetryAttempts"/> alone decide.
    /// </summary>
    /// <param name="container">The container; <see cref="AzureBlobChunkStoreOptions.ContainerName"/> and <see cref="AzureBlobChunkStoreOptions.ConnectionString"/> are not used.</param>
    /// <param name="options">The prefix and the retries; default <see cref="AzureBlobChunkStoreOptions"/>'s defaults.</param>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    public AzureBlobChunkStore(BlobContainerClient container, AzureBlobChunkStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        options ??= new AzureBlobChunkStoreOptions();
        var prefix = AzureNames.Validate(options, container.Name, needsConnectionString: false);
        _chunks = new ObjectChunkStore(new AzureObjectBucket(container, options), prefix);
    }

    /// <summary>The container and prefix, as messages name them.</summary>
    public string Location => _chunks.Location;

    /// <inheritdoc />
    public ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default) => _chunks.ExistsAsync(id, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Durable when it returns: the service acknowledges a Put Blob once it is stored.</remarks>
    public ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => _chunks.WriteAsync(id, content, cancellationToken);

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default) => _chunks.ReadAsync(id, destination, cancellationToken);

    /// <inheritdoc />
    public ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, PipeWriter destination, CancellationToken cancellationToken = default) =>
        _chunks.ReadRangeAsync(chunk, offset, count, destination, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default) => _chunks.DeleteAsync(id, cancellationToken);

    /// <inheritdoc />
    /// <remarks>The blob's Last-Modified time, as the service keeps it (to the second).</remarks>
    public ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default) => _chunks.GetLastWriteTimeAsync(id, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<ChunkId> EnumerateAsync(CancellationToken cancellationToken = default) => _chunks.EnumerateAsync(cancellationToken);

    /// <summary>The key of a chunk's blob in the container (for tools and tests).</summary>
    internal string KeyOf(ChunkId id) => _chunks.KeyOf(id);

    // The marker is read and written once, when the store opens, on a pool thread so no caller's context is blocked.
    string? IStoreMarker.ReadStoreId() => Task.Run(async () => await _chunks.ReadStoreIdAsync(CancellationToken.None).ConfigureAwait(false)).GetAwaiter().GetResult();

    void IStoreMarker.WriteStoreId(string storeId) => Task.Run(async () => await _chunks.WriteStoreIdAsync(storeId, CancellationToken.None).ConfigureAwait(false)).GetAwaiter().GetResult();
}
