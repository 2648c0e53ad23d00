using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.DependencyInjection;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using Microsoft.Extensions.Logging;

namespace BlobStorage;

/// <summary>
/// The facade: validates every argument, orchestrates the metadata store and the replicator, and
/// owns no I/O of its own. Split by concern into partial files (upload, download, maintenance).
/// </summary>
internal sealed partial class BlobStore : IBlobStore, IDisposable
{
    private static readonly BlobUploadOptions DefaultUpload = new();
    private static readonly BlobDownloadOptions DefaultDownload = new();
    private static readonly BlobListOptions DefaultList = new();
    private static readonly BlobCopyOptions DefaultCopy = new();

    private readonly IMetadataStore _metadata;
    private readonly IReplicator _replicator;
    private readonly IEdgeCache _edgeCache;
    private readonly BlobStorageOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<object> _owned;
    private readonly ChunkLeases _leases = new();
    private readonly AccessTracker _access;
    private readonly ChunkBufferPool _buffers;
    private readonly BlobStorageTelemetry _telemetry;
    private readonly Lock _openGate = new();
    private readonly DiskReserve _reserve;
    private readonly HashSet<string> _knownEdges;

    // Containers never change after creation; uploads look theirs up here instead of in the database.
    // The commit still checks, inside its transaction, that the container exists.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ContainerProperties> _containers = new(StringComparer.Ordinal);
    private Task? _open;
    private int _disposed;

    /// <param name="metadata">The metadata store.</param>
    /// <param name="replicator">Where chunks go.</param>
    /// <param name="edgeCache">The edge locations in front of the store.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The log.</param>
    /// <param name="owned">Services the store disposes with itself (those it was built with, not those a DI container owns).</param>
    /// <param name="meterFactory">The host's meter factory, when it has one.</param>
    internal BlobStore(IMetadataStore metadata, IReplicator replicator, IEdgeCache edgeCache, BlobStorageOptions options, TimeProvider time, ILogger logger, IReadOnlyList<object> owned, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        _metadata = metadata;
        _replicator = replicator;
        _edgeCache = edgeCache;
        _options = options;
        _time = time;
        _logger = logger;
        _owned = owned;
        _access = new AccessTracker(metadata, options.AccessFlushBatchSize);
        _reserve = new DiskReserve(options.RootPath, options.ReservedDiskSpace, logger);
        _knownEdges = new HashSet<string>(options.EdgeLocations, StringComparer.Ordinal);
        _telemetry = new BlobStorageTelemetry(meterFactory, Path.GetFullPath(options.RootPath));
        _telemetry.Clock = time;
        if (replicator is Replication.RendezvousReplicator rendezvous) rendezvous.ReadRepaired = OnReadRepaired;

        // Enough for every core to run an upload at full concurrency; a store keeps only as many as it used at once.
        // Extra buffers beyond each upload's first: as many as one upload uses to overlap its reads and writes.
        _buffers = new ChunkBufferPool(
            options.ChunkSize,
            Environment.ProcessorCount * (options.UploadConcurrency + 1),
            options.UploadConcurrency,
            sliceSize: Math.Min(StreamSliceSize, options.ChunkSize),
            retainedSlices: RetainedSlicesPerCore * Environment.ProcessorCount,
            extraSlices: ExtraSlicesPerCore * Environment.ProcessorCount,
            retainedPieces: 3 * BlobContentStream.ParallelCopyLimit);
    }

    /// <summary>The store's instruments.</summary>
    internal BlobStorageTelemetry Telemetry => _telemetry;

    /// <summary>The chunk buffers of the store's uploads and downloads; for tests.</summary>
    internal ChunkBufferPool Buffers => _buffers;

    /// <summary>Opens the store: migrates the schema, recovers from a crash, starts the schedules. Idempotent.</summary>
    internal Task OpenAsync(CancellationToken cancellationToken = default) => EnsureOpenAsync(cancellationToken);

    private Task EnsureOpenAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var open = _open;
        if (open is { IsCompletedSuccessfully: true }) return Task.CompletedTask;
        lock (_openGate)
        {
            if (_open is null || _open.IsFaulted || _open.IsCanceled)
            {
                _open = OpenCoreAsync();
            }

            return _open.WaitAsync(cancellationToken);
        }
    }

    // ---- containers ----

    public async Task<ContainerProperties> CreateContainerAsync(string name, ContainerOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(name, nameof(name));
        options ??= new ContainerOptions();
        CheckDefined(options.DefaultStorageClass, "options.DefaultStorageClass");
        CheckDefined(options.ReplicationStrategy, "options.ReplicationStrategy");
        CheckDefined(options.AccessPolicy, "options.AccessPolicy");
        CheckTopologyMeets(options.ReplicationStrategy, name);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var container = new ContainerProperties
        {
            Name = name,
            DefaultStorageClass = options.DefaultStorageClass,
            ReplicationStrategy = options.ReplicationStrategy,
            AccessPolicy = options.AccessPolicy,
            CreatedOn = _time.GetUtcNow(),
        };
        await _metadata.CreateContainerAsync(container, cancellationToken).ConfigureAwait(false);
        _containers[name] = container;
        _cdn.TryRemove(name, out _);
        return container;
    }

    public async Task<ContainerProperties> GetContainerAsync(string name, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return await _metadata.GetContainerAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainerNotFoundException(name);
    }

    public async IAsyncEnumerable<ContainerProperties> ListContainersAsync(string? prefix = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var containers = await _metadata.ListContainersAsync(cancellationToken).ConfigureAwait(false);
        foreach (var container in containers)
        {
            if (prefix is null || container.Name.StartsWith(prefix, StringComparison.Ordinal)) yield return container;
        }
    }

    public async Task DeleteContainerAsync(string name, bool deleteContents = false, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        _containers.TryRemove(name, out _);
        await FreeingSpaceAsync(ct => _metadata.DeleteContainerAsync(name, deleteContents, _time.GetUtcNow(), ct).AsTask(), cancellationToken).ConfigureAwait(false);
        _containers.TryRemove(name, out _);
        _cdn.TryRemove(name, out _);
        await InvalidateEdgesAsync(name, null).ConfigureAwait(false);
    }

    // ---- blobs ----

    public async Task<BlobProperties> GetPropertiesAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var properties = await PropertiesAsync(container, name, cancellationToken).ConfigureAwait(false);
        return properties with { IsFullyReplicated = await IsFullyReplicatedAsync(properties, cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>A blob's properties with the downloads not yet written added, exactly: read again if a flush overlapped the read.</summary>
    private async Task<BlobProperties> PropertiesAsync(string container, string name, CancellationToken cancellationToken)
    {
        while (true)
        {
            var generation = _access.Generation;
            var record = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false)
                ?? throw await NotFoundAsync(container, name, cancellationToken).ConfigureAwait(false);
            if (_access.TryMerge(record.Properties, generation, out var merged)) return merged;
            // A batch of counts was being written meanwhile: whether the row holds it is unknown, so read again once it is written.
            await _access.WaitForFlushAsync(generation, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task DeleteAsync(string container, string name, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await FreeingSpaceAsync(ct => _metadata.DeleteBlobAsync(container, name, conditions, _time.GetUtcNow(), ct).AsTask(), cancellationToken).ConfigureAwait(false);
        await InvalidateEdgesAsync(container, name).ConfigureAwait(false);
    }

    public async Task<BlobListPage> ListAsync(string container, BlobListOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        options ??= DefaultList;
        if (options.PageSize is < 1 or > BlobListOptions.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException("options.PageSize", options.PageSize, $"A page holds 1 to {BlobListOptions.MaxPageSize} entries.");
        }

        CheckListText(options.Prefix, "options.Prefix", allowEmpty: true);
        CheckListText(options.Delimiter, "options.Delimiter", allowEmpty: false);
        if ((options.Include & ~BlobListTraits.All) != 0)
        {
            throw new ArgumentOutOfRangeException("options.Include", options.Include, "options.Include takes only BlobListTraits.Metadata and BlobListTraits.Tags.");
        }

        var startAt = options.ContinuationToken is null ? null : ContinuationToken.Decode(options.ContinuationToken, container);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var generation = _access.Generation;
            var listing = await _metadata.ListBlobsAsync(
                container,
                new BlobListQuery { Prefix = options.Prefix, Delimiter = options.Delimiter, StartAt = startAt, PageSize = options.PageSize, Include = options.Include },
                cancellationToken).ConfigureAwait(false);
            if (!_access.TryMergeAll(listing.Blobs, generation, out var blobs))
            {
                // A flush overlapped the read: whether the page holds its counts is unknown, so read it again.
                await _access.WaitForFlushAsync(generation, cancellationToken).ConfigureAwait(false);
                continue;
            }

            return new BlobListPage
            {
                Blobs = blobs,
                CommonPrefixes = listing.CommonPrefixes,
                ContinuationToken = listing.NextStartAt is null ? null : ContinuationToken.Encode(container, listing.NextStartAt),
            };
        }
    }

    public async IAsyncEnumerable<BlobProperties> ListAllAsync(string container, string? prefix = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        do
        {
            var page = await ListAsync(container, new BlobListOptions { Prefix = prefix, ContinuationToken = token }, cancellationToken).ConfigureAwait(false);
            foreach (var blob in page.Blobs) yield return blob;
            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    public async Task<BlobProperties> UpdateMetadataAsync(string container, string name, BlobMetadataUpdate update, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        MetadataRules.ValidateUpdate(update);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var generation = _access.Generation;
        var record = await _metadata.UpdateBlobMetadataAsync(container, name, update, Identifiers.NewETag(), _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await InvalidateEdgesAsync(container, name).ConfigureAwait(false);
        return _access.TryMerge(record.Properties, generation, out var merged)
            ? merged
            : await PropertiesAsync(container, name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BlobProperties> CopyAsync(string sourceContainer, string sourceName, string destinationContainer, string destinationName, BlobCopyOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(sourceContainer, nameof(sourceContainer));
        BlobNames.ValidateBlobName(sourceName, nameof(sourceName));
        BlobNames.ValidateContainerName(destinationContainer, nameof(destinationContainer));
        BlobNames.ValidateBlobName(destinationName, nameof(destinationName));
        options ??= DefaultCopy;
        MetadataRules.ValidateContentType(options.ContentType);
        if (options.StorageClass is { } storageClass) CheckDefined(storageClass, "options.StorageClass");
        MetadataRules.ValidateTags(options.Tags, "options.Tags");
        MetadataRules.ValidateMetadata(options.Metadata, "options.Metadata");
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var record = await _metadata.CopyBlobAsync(
            new BlobCopyRequest
            {
                SourceContainer = sourceContainer,
                SourceName = sourceName,
                DestinationContainer = destinationContainer,
                DestinationName = destinationName,
                VersionId = Identifiers.NewVersionId(now),
                ETag = Identifiers.NewETag(),
                Now = now,
                Options = options,
            },
            cancellationToken).ConfigureAwait(false);
        // A copy shares the source's chunks: no byte is written, so none is counted.
        await QueueCopiesForAsync(record, cancellationToken).ConfigureAwait(false);
        await InvalidateEdgesAsync(destinationContainer, destinationName).ConfigureAwait(false);
        return record.Properties;
    }

    public async Task<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        // Counts gathered in memory are written first, so the totals include every download so far.
        await _access.FlushAsync(cancellationToken).ConfigureAwait(false);
        var statistics = await _metadata.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
        statistics.ReadRepairs = Interlocked.Read(ref _readRepairs);
        statistics.PendingReplicas = (await UpdateReplicationTelemetryAsync(cancellationToken).ConfigureAwait(false)).Length;
        return statistics;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopScheduleAsync().ConfigureAwait(false);
        await StopFollowingChangesAsync().ConfigureAwait(false);
        if (_open is { IsCompletedSuccessfully: true })
        {
            try
            {
                await _access.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is BlobStorageException or IOException or InvalidOperationException)
            {
                Log.AccessFlushFailed(_logger, ex);
            }
        }

        _access.Dispose();
        _telemetry.Dispose();
        _buffers.Dispose();
        await StoreComposition.DisposeAllAsync(_owned).ConfigureAwait(false);
    }

    /// <summary>The container's settings, from the cache or the metadata store.</summary>
    private async ValueTask<ContainerProperties> ContainerAsync(string name, CancellationToken cancellationToken)
    {
        if (_containers.TryGetValue(name, out var cached)) return cached;
        var container = await _metadata.GetContainerAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainerNotFoundException(name);

        // Never over an entry set meanwhile: a container deleted and created again since this read must win.
        return _containers.GetOrAdd(name, container);
    }

    /// <summary>
    /// For hosts that dispose their service provider synchronously: the same as <see cref="DisposeAsync"/>
    /// (access counts written, schedules stopped, services closed), waited for.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Runs a call that frees space (a delete, an abort, a maintenance pass). If it meets a full disk while
    /// the store holds its reserve, the reserve is released and the call runs once more: a failed call
    /// changed nothing, and space can always be freed through the store's own calls.
    /// </summary>
    private async Task FreeingSpaceAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        await FreeingSpaceAsync(
            async ct =>
            {
                await call(ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);

    private async Task<T> FreeingSpaceAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.ErrorCode == BlobErrorCode.InsufficientStorage && _reserve.Release())
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Exception> NotFoundAsync(string container, string name, CancellationToken cancellationToken) =>
        await _metadata.GetContainerAsync(container, cancellationToken).ConfigureAwait(false) is null
            ? new ContainerNotFoundException(container)
            : new BlobNotFoundException(container, name);

    private static void CheckDefined<T>(T value, string paramName)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentException($"{Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)} is not a defined {typeof(T).Name}.", paramName);
        }
    }

    private static void CheckListText(string? text, string paramName, bool allowEmpty)
    {
        if (text is null) return;
        if (!allowEmpty && text.Length == 0)
        {
            throw new ArgumentException("A delimiter must not be empty; pass null for none.", paramName);
        }

        if (text.Length > BlobNames.MaxBlobNameBytes)
        {
            throw new ArgumentException($"It is longer than any blob name ({BlobNames.MaxBlobNameBytes} bytes).", paramName);
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i]))
            {
                // A lone surrogate has no UTF-8 form and could never match a valid name.
                throw new ArgumentException($"It holds a lone surrogate at position {i}; it must be valid Unicode.", paramName);
            }
        }
    }
}
