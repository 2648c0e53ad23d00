using BlobStorage;
using BlobStorage.Abstractions;
using BlobStorage.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// DI extensions live in this namespace by the convention of Microsoft.Extensions.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Adds BlobStorage to a service collection.</summary>
public static class BlobStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IBlobStore"/> and the services behind it (SQLite metadata, file-system
    /// chunks, a single-node replicator, an in-memory <see cref="IEdgeCache"/>, <see cref="TimeProvider.System"/>), each with TryAdd so
    /// that one registered before wins. Options are validated when the host starts, and the store
    /// opens then too. In a host, maintenance runs as a hosted service every
    /// <see cref="BlobStorageOptions.MaintenanceInterval"/>, cancelled cleanly when the host stops.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="BlobStorageOptions.RootPath"/> is required.</param>
    public static IBlobStorageBuilder AddBlobStorage(this IServiceCollection services, Action<BlobStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<BlobStorageOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BlobStorageOptions>, BlobStorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IMetadataStore>(sp => StoreComposition.CreateMetadataStore(sp.GetRequiredService<IOptions<BlobStorageOptions>>().Value));
        services.TryAddSingleton<IChunkStore>(sp => StoreComposition.CreateChunkStore(sp.GetRequiredService<IOptions<BlobStorageOptions>>().Value));
        services.TryAddSingleton<IReplicator>(sp =>
        {
            // A configured topology makes its own node stores; the registered IChunkStore is the single default node's.
            var options = sp.GetRequiredService<IOptions<BlobStorageOptions>>().Value;
            return options.Topology.IsConfigured
                ? StoreComposition.CreateTopologyReplicator(options, LoggerFactoryOf(sp))
                : StoreComposition.CreateReplicator(sp.GetRequiredService<IChunkStore>(), LoggerFactoryOf(sp));
        });
        services.TryAddSingleton<IEdgeCache>(sp => StoreComposition.CreateEdgeCache(sp.GetRequiredService<IOptions<BlobStorageOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IBlobStore>(sp => StoreComposition.CreateStore(
            sp.GetRequiredService<IMetadataStore>(),
            sp.GetRequiredService<IReplicator>(),
            sp.GetRequiredService<IEdgeCache>(),
            sp.GetRequiredService<IOptions<BlobStorageOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            LoggerFactoryOf(sp),
            owned: []));
        services.TryAddSingleton(sp => sp.GetRequiredService<IBlobStore>().Urls);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BlobStoreOpener>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BlobStoreMaintenanceService>());
        return new BlobStorageBuilder(services);
    }

    /// <summary>Adds a folder node to a region of <see cref="BlobStorageOptions.Topology"/>, creating the region at its first node.</summary>
    /// <param name="builder">The builder <see cref="AddBlobStorage"/> returned.</param>
    /// <param name="region">The region's name.</param>
    /// <param name="name">The node's name, unique across the topology.</param>
    /// <param name="path">The node's folder (typically on its own disk).</param>
    /// <param name="isCold">True for a cold-tier node, preferred for Archive and ColdArchive copies.</param>
    public static IBlobStorageBuilder AddNode(this IBlobStorageBuilder builder, string region, string name, string path, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<BlobStorageOptions>(o => o.Topology.AddNode(region, name, path, isCold));
        return builder;
    }

    private static ILoggerFactory LoggerFactoryOf(IServiceProvider services) =>
        services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;

    private sealed class BlobStorageBuilder(IServiceCollection services) : IBlobStorageBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
