using BlobStorage.Abstractions;
using BlobStorage.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlobStorage;

/// <summary>
/// Opens a store without dependency injection:
/// <c>await using var store = await new BlobStoreBuilder("data").OpenAsync();</c>
/// Services made by the builder are disposed with the store; services passed to it are not.
/// </summary>
public sealed class BlobStoreBuilder
{
    private readonly BlobStorageOptions _options = new();
    private TimeProvider _time = TimeProvider.System;
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private IMetadataStore? _metadata;
    private bool _ownsMetadata;
    private IChunkStore? _chunks;
    private IReplicator? _replicator;
    private IEdgeCache? _edgeCache;

    /// <summary>Creates a builder; set <see cref="BlobStorageOptions.RootPath"/> with <see cref="Configure"/>.</summary>
    public BlobStoreBuilder()
    {
    }

    /// <summary>Creates a builder for the store in <paramref name="rootPath"/>.</summary>
    public BlobStoreBuilder(string rootPath)
    {
        ArgumentNullException.ThrowIfNull(rootPath);
        _options.RootPath = rootPath;
    }

    /// <summary>Changes the options.</summary>
    public BlobStoreBuilder Configure(Action<BlobStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
        return this;
    }

    /// <summary>Uses this clock for timestamps, grace periods and schedules (a fake one in tests).</summary>
    public BlobStoreBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        return this;
    }

    /// <summary>Writes the store's logs here.</summary>
    public BlobStoreBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Uses this metadata store instead of SQLite in the root folder. The caller disposes it.</summary>
    public BlobStoreBuilder UseMetadataStore(IMetadataStore metadataStore)
    {
        _metadata = metadataStore ?? throw new ArgumentNullException(nameof(metadataStore));
        _ownsMetadata = false;
        return this;
    }

    /// <summary>
    /// Uses this metadata store, made for this builder alone, and disposes it with the store (or when opening fails);
    /// for packages whose builder extension makes the store (PostgreSQL).
    /// </summary>
    internal BlobStoreBuilder UseOwnedMetadataStore(IMetadataStore metadataStore)
    {
        _metadata = metadataStore ?? throw new ArgumentNullException(nameof(metadataStore));
        _ownsMetadata = true;
        return this;
    }

    /// <summary>Uses this chunk store instead of files in the root folder. The caller disposes it.</summary>
    public BlobStoreBuilder UseChunkStore(IChunkStore chunkStore)
    {
        _chunks = chunkStore ?? throw new ArgumentNullException(nameof(chunkStore));
        return this;
    }

    /// <summary>Uses this replicator (and the nodes it was given) instead of a single local node. The caller disposes its stores.</summary>
    public BlobStoreBuilder UseReplicator(IReplicator replicator)
    {
        _replicator = replicator ?? throw new ArgumentNullException(nameof(replicator));
        return this;
    }

    /// <summary>Adds a folder node to a region of <see cref="BlobStorageOptions.Topology"/> (see <see cref="Replication.StorageTopologyOptions.AddNode(string, string, string, bool)"/>).</summary>
    public BlobStoreBuilder AddNode(string region, string name, string path, bool isCold = false)
    {
        _options.Topology.AddNode(region, name, path, isCold);
        return this;
    }

    /// <summary>Uses this edge cache instead of one in memory sized by <see cref="BlobStorageOptions.EdgeCacheCapacity"/>. The caller disposes it.</summary>
    public BlobStoreBuilder UseEdgeCache(IEdgeCache edgeCache)
    {
        _edgeCache = edgeCache ?? throw new ArgumentNullException(nameof(edgeCache));
        return this;
    }

    /// <summary>Validates the options, opens the store and recovers from any earlier crash.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">A setting is wrong; the message names it.</exception>
    public async Task<IBlobStore> OpenAsync(CancellationToken cancellationToken = default)
    {
        StoreComposition.Validate(_options);
        var owned = new List<object>();
        try
        {
            var metadata = _metadata is { } given ? (_ownsMetadata ? Own(given, owned) : given) : Own(StoreComposition.CreateMetadataStore(_options), owned);
            var replicator = _replicator;
            if (replicator is null && _options.Topology.IsConfigured)
            {
                if (_chunks is not null)
                {
                    throw new InvalidOperationException(
                        "UseChunkStore replaces the store of the single default node; with BlobStorageOptions.Topology configured, give each node its store with Topology.AddNode(region, name, store).");
                }

                replicator = Own(StoreComposition.CreateTopologyReplicator(_options, _loggerFactory), owned);
            }
            else if (replicator is null)
            {
                var chunks = _chunks ?? Own(StoreComposition.CreateChunkStore(_options), owned);
                replicator = StoreComposition.CreateReplicator(chunks, _loggerFactory);
            }

            var edgeCache = _edgeCache ?? Own(StoreComposition.CreateEdgeCache(_options, _time), owned);
            var store = StoreComposition.CreateStore(metadata, replicator, edgeCache, _options, _time, _loggerFactory, owned);
            try
            {
                await store.OpenAsync(cancellationToken).ConfigureAwait(false);
                return store;
            }
            catch
            {
                owned = [];
                await store.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch when (owned.Count > 0)
        {
            await StoreComposition.DisposeAllAsync(owned).ConfigureAwait(false);
            throw;
        }
    }

    private static T Own<T>(T service, List<object> owned)
        where T : notnull
    {
        owned.Add(service);
        return service;
    }
}
