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
        services.TryAddSingleton<IReplicator>(sp => StoreComposition.CreateReplicator(sp.GetRequiredService<IChunkStore>(), LoggerFactoryOf(sp)));
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

    private static ILoggerFactory LoggerFactoryOf(IServiceProvider services) =>
        services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;

    private sealed class BlobStorageBuilder(IServiceCollection services) : IBlobStorageBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
