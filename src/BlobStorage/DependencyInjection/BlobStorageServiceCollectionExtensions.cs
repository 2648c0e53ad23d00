using System.Diagnostics.Metrics;
using BlobStorage;
using BlobStorage.Abstractions;
using BlobStorage.DependencyInjection;
using Microsoft.Extensions.Configuration;
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
        return AddStore(services, serviceKey: null, configure);
    }

    /// <summary>
    /// Registers the store as <see cref="AddBlobStorage(IServiceCollection, Action{BlobStorageOptions})"/> does, with its options
    /// bound from a configuration section (such as <c>builder.Configuration.GetSection("BlobStorage")</c>), whose keys are the
    /// names of <see cref="BlobStorageOptions"/>' properties. When the host starts, every problem is reported at once in one
    /// <see cref="OptionsValidationException"/>: a key that is no setting, a value of the wrong type, a value out of range.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding the settings.</param>
    public static IBlobStorageBuilder AddBlobStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddStore(services, serviceKey: null, options => BlobStorageOptionsBinder.Bind(configuration, options));
    }

    /// <summary>
    /// Registers a store under <paramref name="serviceKey"/>, beside any other: resolve it with
    /// <c>[FromKeyedServices("key")] IBlobStore store</c> or <c>GetRequiredKeyedService&lt;IBlobStore&gt;("key")</c>. Each keyed
    /// store has its own options (named after the key, validated at start with the key in every message), folder and services;
    /// register a keyed <see cref="IMetadataStore"/>, <see cref="IChunkStore"/>, <see cref="IReplicator"/> or <see cref="IEdgeCache"/>
    /// under the same key to replace one of its defaults.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key; its text (<see cref="object.ToString"/>) names the store's options.</param>
    /// <param name="configure">Sets the options; <see cref="BlobStorageOptions.RootPath"/> is required.</param>
    public static IBlobStorageBuilder AddKeyedBlobStorage(this IServiceCollection services, object serviceKey, Action<BlobStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configure);
        return AddStore(services, serviceKey, configure);
    }

    /// <summary>Registers a keyed store (see <see cref="AddKeyedBlobStorage(IServiceCollection, object, Action{BlobStorageOptions})"/>) with its options bound from a configuration section.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key; its text names the store's options.</param>
    /// <param name="configuration">The section holding the settings.</param>
    public static IBlobStorageBuilder AddKeyedBlobStorage(this IServiceCollection services, object serviceKey, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddStore(services, serviceKey, options => BlobStorageOptionsBinder.Bind(configuration, options));
    }

    private static BlobStorageBuilder AddStore(IServiceCollection services, object? serviceKey, Action<BlobStorageOptions> configure)
    {
        var name = OptionsNameOf(serviceKey);
        services.AddOptions<BlobStorageOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BlobStorageOptions>, BlobStorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        if (serviceKey is null)
        {
            services.TryAddSingleton<IMetadataStore>(sp => StoreComposition.CreateMetadataStore(OptionsOf(sp, name)));
            services.TryAddSingleton<IChunkStore>(sp => StoreComposition.CreateChunkStore(OptionsOf(sp, name)));
            services.TryAddSingleton<IReplicator>(sp => ReplicatorOf(sp, OptionsOf(sp, name), () => sp.GetRequiredService<IChunkStore>()));
            services.TryAddSingleton<IEdgeCache>(sp => StoreComposition.CreateEdgeCache(OptionsOf(sp, name), sp.GetRequiredService<TimeProvider>(), sp.GetService<IMeterFactory>()));
            services.TryAddSingleton<IBlobStore>(sp => StoreComposition.CreateStore(
                sp.GetRequiredService<IMetadataStore>(),
                sp.GetRequiredService<IReplicator>(),
                sp.GetRequiredService<IEdgeCache>(),
                OptionsOf(sp, name),
                sp.GetRequiredService<TimeProvider>(),
                LoggerFactoryOf(sp),
                owned: [],
                sp.GetService<IMeterFactory>()));
            services.TryAddSingleton(sp => sp.GetRequiredService<IBlobStore>().Urls);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BlobStoreOpener>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BlobStoreMaintenanceService>());
        }
        else
        {
            services.TryAddKeyedSingleton<IMetadataStore>(serviceKey, (sp, _) => StoreComposition.CreateMetadataStore(OptionsOf(sp, name)));
            services.TryAddKeyedSingleton<IChunkStore>(serviceKey, (sp, key) => StoreComposition.CreateChunkStore(OptionsOf(sp, name)));
            services.TryAddKeyedSingleton<IReplicator>(serviceKey, (sp, key) => ReplicatorOf(sp, OptionsOf(sp, name), () => sp.GetRequiredKeyedService<IChunkStore>(key)));
            services.TryAddKeyedSingleton<IEdgeCache>(serviceKey, (sp, key) => StoreComposition.CreateEdgeCache(OptionsOf(sp, name), sp.GetRequiredService<TimeProvider>(), sp.GetService<IMeterFactory>()));
            services.TryAddKeyedSingleton<IBlobStore>(serviceKey, (sp, key) => StoreComposition.CreateStore(
                sp.GetRequiredKeyedService<IMetadataStore>(key),
                sp.GetRequiredKeyedService<IReplicator>(key),
                sp.GetRequiredKeyedService<IEdgeCache>(key),
                OptionsOf(sp, name),
                sp.GetRequiredService<TimeProvider>(),
                LoggerFactoryOf(sp),
                owned: [],
                sp.GetService<IMeterFactory>()));
            services.TryAddKeyedSingleton(serviceKey, (sp, key) => sp.GetRequiredKeyedService<IBlobStore>(key).Urls);
            if (!services.Any(d => d.ServiceType == typeof(KeyedStoreOpenerMarker) && Equals(d.ServiceKey, serviceKey)))
            {
                services.AddKeyedSingleton<KeyedStoreOpenerMarker>(serviceKey);
                services.AddSingleton<IHostedService>(sp => new BlobStoreOpener(sp.GetRequiredKeyedService<IBlobStore>(serviceKey)));
            }
        }

        return new BlobStorageBuilder(services, serviceKey, name);
    }

    /// <summary>The options name of a store: the default name for the unkeyed one, the key's text for a keyed one.</summary>
    internal static string OptionsNameOf(object? serviceKey) =>
        serviceKey is null ? Options.Options.DefaultName : (serviceKey.ToString() ?? throw new ArgumentException("The key's ToString() returned null.", nameof(serviceKey)));

    /// <summary>A configured topology makes its own node stores; otherwise the registered IChunkStore is the single default node.</summary>
    private static IReplicator ReplicatorOf(IServiceProvider services, BlobStorageOptions options, Func<IChunkStore> chunkStore) =>
        options.Topology.IsConfigured
            ? StoreComposition.CreateTopologyReplicator(options, LoggerFactoryOf(services))
            : StoreComposition.CreateReplicator(chunkStore(), LoggerFactoryOf(services));

    private static BlobStorageOptions OptionsOf(IServiceProvider services, string name) =>
        services.GetRequiredService<IOptionsMonitor<BlobStorageOptions>>().Get(name);

    /// <summary>Adds a folder node to a region of <see cref="BlobStorageOptions.Topology"/>, creating the region at its first node.</summary>
    /// <param name="builder">The builder <c>AddBlobStorage</c> returned.</param>
    /// <param name="region">The region's name.</param>
    /// <param name="name">The node's name, unique across the topology.</param>
    /// <param name="path">The node's folder (typically on its own disk).</param>
    /// <param name="isCold">True for a cold-tier node, preferred for Archive and ColdArchive copies.</param>
    public static IBlobStorageBuilder AddNode(this IBlobStorageBuilder builder, string region, string name, string path, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<BlobStorageOptions>(builder.OptionsName, o => o.Topology.AddNode(region, name, path, isCold));
        return builder;
    }

    private static ILoggerFactory LoggerFactoryOf(IServiceProvider services) =>
        services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;

    /// <summary>Marks that a keyed store's opener is registered, so that registering the key twice opens it once.</summary>
    private sealed class KeyedStoreOpenerMarker;

    private sealed class BlobStorageBuilder(IServiceCollection services, object? serviceKey, string optionsName) : IBlobStorageBuilder
    {
        public IServiceCollection Services { get; } = services;

        public object? ServiceKey { get; } = serviceKey;

        public string OptionsName { get; } = optionsName;
    }
}
