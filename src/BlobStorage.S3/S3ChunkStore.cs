using System.IO.Pipelines;
using Amazon.Runtime;
using Amazon.S3;
using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Chunks.Objects;
using BlobStorage.S3.Internal;

namespace BlobStorage.S3;

/// <summary>
/// Keeps chunks in an S3 bucket (Amazon S3 or an S3-compatible server): each chunk an object
/// <c>{prefix}chunks/ab/abcd…</c> named by its id (see <see cref="ChunkId"/>) and sharded by its first byte, in the folder store's
/// <c>BSCHUNK2</c> layout (a header, an XxHash3 per 64 KiB block, the content), so every read is verified block by block
/// and a range downloads only the blocks it covers. A chunk is written once: a HEAD, then a PUT with
/// <c>If-None-Match: *</c> (conditional where the service honours it). The store's marker is the object
/// <c>{prefix}store-id</c>. Transient failures are retried with exponential backoff and jitter; what is left of them, a
/// missing bucket and refused credentials are <see cref="BlobErrorCode.StoreUnavailable"/> errors.
/// </summary>
/// <remarks>
/// Use it as the store's only chunk store (<c>UseS3ChunkStore</c>) or as a node of a region
/// (<c>o.Topology.AddNode(region, name, store)</c>), so a <see cref="ReplicationStrategy.CrossRegion"/> container can keep
/// its remote copy in a bucket. The bucket must exist; the store never creates or deletes it.
/// </remarks>
public sealed class S3ChunkStore : IChunkStore, IStoreMarker, IDisposable
{
    private readonly ObjectChunkStore _chunks;
    private readonly AmazonS3Client? _ownedClient;

    /// <summary>Opens the store with a client of its own, made from the options (disposed with the store).</summary>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    public S3ChunkStore(S3ChunkStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var prefix = S3Names.Validate(options, connects: true);
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,

            // The store's own retries replace the SDK's, so the attempts are the ones the options say.
            MaxErrorRetry = 0,
            Timeout = options.RequestTimeout,

            // Checksums only where the service asks for them: the chunk objects carry their own, and not every
            // S3-compatible server reads the SDK's trailing checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        _ownedClient = string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        _chunks = new ObjectChunkStore(new S3ObjectBucket(_ownedClient, options), prefix);
    }

    /// <summary>
    /// Opens the store with a client you configured yourself (credentials, endpoint; not disposed by the store). Its own
    /// retries run inside the store's: set its <c>MaxErrorRetry</c> to 0 to let <see cref="S3ChunkStoreOptions.MaxRetryAttempts"/> alone decide.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="options">The bucket, prefix and retries; the connection settings are not used.</param>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    public S3ChunkStore(IAmazonS3 client, S3ChunkStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var prefix = S3Names.Validate(options, connects: false);
        _chunks = new ObjectChunkStore(new S3ObjectBucket(client, options), prefix);
    }

    /// <summary>The bucket and prefix, as messages name them.</summary>
    public string Location => _chunks.Location;

    /// <inheritdoc />
    public ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default) => _chunks.ExistsAsync(id, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Durable when it returns: the service acknowledges a PUT once it is stored.</remarks>
    public ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => _chunks.WriteAsync(id, content, cancellationToken);

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default) => _chunks.ReadAsync(id, destination, cancellationToken);

    /// <inheritdoc />
    public ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, PipeWriter destination, CancellationToken cancellationToken = default) =>
        _chunks.ReadRangeAsync(chunk, offset, count, destination, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default) => _chunks.DeleteAsync(id, cancellationToken);

    /// <inheritdoc />
    /// <remarks>The object's Last-Modified time, as the service keeps it (to the second).</remarks>
    public ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default) => _chunks.GetLastWriteTimeAsync(id, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<ChunkId> EnumerateAsync(CancellationToken cancellationToken = default) => _chunks.EnumerateAsync(cancellationToken);

    /// <summary>Disposes the client the store made; a client passed in is left to its owner.</summary>
    public void Dispose() => _ownedClient?.Dispose();

    /// <summary>The key of a chunk's object in the bucket (for tools and tests).</summary>
    internal string KeyOf(ChunkId id) => _chunks.KeyOf(id);

    // The marker is read and written once, when the store opens, on a pool thread so no caller's context is blocked.
    string? IStoreMarker.ReadStoreId() => Task.Run(async () => await _chunks.ReadStoreIdAsync(CancellationToken.None).ConfigureAwait(false)).GetAwaiter().GetResult();

    void IStoreMarker.WriteStoreId(string storeId) => Task.Run(async () => await _chunks.WriteStoreIdAsync(storeId, CancellationToken.None).ConfigureAwait(false)).GetAwaiter().GetResult();
}
