using BlobStorage;
using BlobStorage.Abstractions;
using BlobStorage.Azure;
using Microsoft.Extensions.DependencyInjection.Extensions;

// DI extensions live in this namespace by the convention of Microsoft.Extensions.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Puts the chunks of a store registered by <c>AddBlobStorage</c> in Azure Blob Storage.</summary>
public static class AzureBlobStorageBuilderExtensions
{
    /// <summary>Keeps every chunk of the store (its single default node) in an Azure container, instead of its folder.</summary>
    /// <param name="builder">The store's builder.</param>
    /// <param name="options">The account, container, prefix and retries; checked now.</param>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    public static IBlobStorageBuilder UseAzureBlobChunkStore(this IBlobStorageBuilder builder, AzureBlobChunkStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var store = new AzureBlobChunkStore(options);
        if (builder.ServiceKey is null)
        {
            builder.Services.RemoveAll<IChunkStore>();
            builder.Services.AddSingleton<IChunkStore>(store);
        }
        else
        {
            builder.Services.RemoveAllKeyed<IChunkStore>(builder.ServiceKey);
            builder.Services.AddKeyedSingleton<IChunkStore>(builder.ServiceKey, store);
        }

        return builder;
    }

    /// <summary>Adds a node kept in an Azure container to a region of the store's topology (<see cref="BlobStorageOptions.Topology"/>).</summary>
    /// <param name="builder">The store's builder.</param>
    /// <param name="region">The region's name.</param>
    /// <param name="name">The node's name, unique across the topology.</param>
    /// <param name="options">The account, container, prefix and retries; checked now.</param>
    /// <param name="isCold">True for a cold-tier node.</param>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    public static IBlobStorageBuilder AddAzureBlobNode(this IBlobStorageBuilder builder, string region, string name, AzureBlobChunkStoreOptions options, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var store = new AzureBlobChunkStore(options);
        return builder.Configure(o => o.Topology.AddNode(region, name, store, isCold));
    }
}
