using BlobStorage;
using BlobStorage.Abstractions;
using BlobStorage.S3;
using Microsoft.Extensions.DependencyInjection.Extensions;

// DI extensions live in this namespace by the convention of Microsoft.Extensions.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Puts the chunks of a store registered by <c>AddBlobStorage</c> in an S3 bucket.</summary>
public static class S3StorageBuilderExtensions
{
    /// <summary>Keeps every chunk of the store (its single default node) in an S3 bucket, instead of its folder. The container disposes the store.</summary>
    /// <param name="builder">The store's builder.</param>
    /// <param name="options">The bucket, prefix, service and retries; checked when the store is first resolved.</param>
    public static IBlobStorageBuilder UseS3ChunkStore(this IBlobStorageBuilder builder, S3ChunkStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        if (builder.ServiceKey is null)
        {
            builder.Services.RemoveAll<IChunkStore>();
            builder.Services.AddSingleton<IChunkStore>(_ => new S3ChunkStore(options));
        }
        else
        {
            builder.Services.RemoveAllKeyed<IChunkStore>(builder.ServiceKey);
            builder.Services.AddKeyedSingleton<IChunkStore>(builder.ServiceKey, (_, _) => new S3ChunkStore(options));
        }

        return builder;
    }

    /// <summary>
    /// Adds a node kept in an S3 bucket to a region of the store's topology (<see cref="BlobStorageOptions.Topology"/>).
    /// The node's store is a singleton of the container (keyed by the node's name), which disposes it.
    /// </summary>
    /// <param name="builder">The store's builder.</param>
    /// <param name="region">The region's name.</param>
    /// <param name="name">The node's name, unique across the topology.</param>
    /// <param name="options">The bucket, prefix, service and retries; checked when the store's options are first built.</param>
    /// <param name="isCold">True for a cold-tier node.</param>
    public static IBlobStorageBuilder AddS3Node(this IBlobStorageBuilder builder, string region, string name, S3ChunkStoreOptions options, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var key = $"BlobStorage.S3:{builder.OptionsName}:{name}";
        builder.Services.AddKeyedSingleton(key, (_, _) => new S3ChunkStore(options));
        builder.Services.AddOptions<BlobStorageOptions>(builder.OptionsName)
            .Configure<IServiceProvider>((o, services) => o.Topology.AddNode(region, name, services.GetRequiredKeyedService<S3ChunkStore>(key), isCold));
        return builder;
    }
}
