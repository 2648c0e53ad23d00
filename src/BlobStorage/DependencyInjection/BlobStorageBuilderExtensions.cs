using BlobStorage;
using BlobStorage.Abstractions;
using BlobStorage.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

// DI extensions live in this namespace by the convention of Microsoft.Extensions.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Configures a store registered by <c>AddBlobStorage</c> or <c>AddKeyedBlobStorage</c>.</summary>
public static class BlobStorageBuilderExtensions
{
    /// <summary>Changes the store's options after those given to <c>AddBlobStorage</c> (and after its configuration section).</summary>
    public static IBlobStorageBuilder Configure(this IBlobStorageBuilder builder, Action<BlobStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.OptionsName, configure);
        return builder;
    }

    /// <summary>Puts this edge cache in front of the store instead of the in-memory one sized by <see cref="BlobStorageOptions.EdgeCacheCapacity"/>.</summary>
    /// <param name="builder">The store's builder.</param>
    /// <param name="factory">Makes the edge cache; the container disposes it.</param>
    public static IBlobStorageBuilder UseEdgeCache(this IBlobStorageBuilder builder, Func<IServiceProvider, IEdgeCache> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        if (builder.ServiceKey is null)
        {
            builder.Services.RemoveAll<IEdgeCache>();
            builder.Services.AddSingleton(factory);
        }
        else
        {
            builder.Services.RemoveAllKeyed<IEdgeCache>(builder.ServiceKey);
            builder.Services.AddKeyedSingleton(builder.ServiceKey, (sp, _) => factory(sp));
        }

        return builder;
    }

    /// <summary>
    /// Adds a health check of the store (<c>services.AddHealthChecks()</c> included): unhealthy — or <paramref name="failureStatus"/> —
    /// when the store cannot open or read its metadata, when its disk has less room than
    /// <see cref="BlobStorageHealthCheckOptions.MinimumFreeSpace"/>, or when it gave up its disk reserve on a full disk; healthy otherwise.
    /// </summary>
    /// <param name="builder">The store's builder.</param>
    /// <param name="name">The check's name; default <c>blobstorage</c>, or <c>blobstorage-{key}</c> for a keyed store.</param>
    /// <param name="failureStatus">What a failed check reports; default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <param name="configure">Sets the thresholds.</param>
    public static IBlobStorageBuilder AddHealthCheck(this IBlobStorageBuilder builder, string? name = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, Action<BlobStorageHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new BlobStorageHealthCheckOptions();
        configure?.Invoke(options);
        if (options.MinimumFreeSpace < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.MinimumFreeSpace, "BlobStorageHealthCheckOptions.MinimumFreeSpace must be zero or more.");
        }

        var key = builder.ServiceKey;
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            name ?? (key is null ? "blobstorage" : "blobstorage-" + builder.OptionsName),
            sp => new BlobStorageHealthCheck(key is null ? sp.GetRequiredService<IBlobStore>() : sp.GetRequiredKeyedService<IBlobStore>(key), options),
            failureStatus,
            tags));
        return builder;
    }
}
