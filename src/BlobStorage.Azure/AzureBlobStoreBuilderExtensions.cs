namespace BlobStorage.Azure;

/// <summary>Puts chunks in Azure Blob Storage from a <see cref="BlobStoreBuilder"/>.</summary>
public static class AzureBlobStoreBuilderExtensions
{
    /// <summary>Keeps every chunk of the store (its single default node) in an Azure container.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The account, container, prefix and retries.</param>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    public static BlobStoreBuilder UseAzureBlobChunkStore(this BlobStoreBuilder builder, AzureBlobChunkStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseChunkStore(new AzureBlobChunkStore(options));
    }

    /// <summary>
    /// Adds a node kept in an Azure container to a region of the topology (see
    /// <see cref="Replication.StorageTopologyOptions.AddNode(string, string, Abstractions.IChunkStore, bool)"/>), as the
    /// remote region of <see cref="Abstractions.ReplicationStrategy.CrossRegion"/> containers for example.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="region">The region's name.</param>
    /// <param name="name">The node's name, unique across the topology.</param>
    /// <param name="options">The account, container, prefix and retries.</param>
    /// <param name="isCold">True for a cold-tier node.</param>
    /// <exception cref="ArgumentException">A setting breaks its rule; the message names it.</exception>
    public static BlobStoreBuilder AddAzureBlobNode(this BlobStoreBuilder builder, string region, string name, AzureBlobChunkStoreOptions options, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var store = new AzureBlobChunkStore(options);
        return builder.Configure(o => o.Topology.AddNode(region, name, store, isCold));
    }
}
