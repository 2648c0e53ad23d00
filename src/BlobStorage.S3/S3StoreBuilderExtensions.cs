namespace BlobStorage.S3;

/// <summary>Puts chunks in an S3 bucket from a <see cref="BlobStoreBuilder"/>.</summary>
public static class S3StoreBuilderExtensions
{
    /// <summary>Keeps every chunk of the store (its single default node) in an S3 bucket.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="store">The store; you dispose it after the blob store.</param>
    public static BlobStoreBuilder UseS3ChunkStore(this BlobStoreBuilder builder, S3ChunkStore store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseChunkStore(store);
    }

    /// <summary>
    /// Adds a node kept in an S3 bucket to a region of the topology (see
    /// <see cref="Replication.StorageTopologyOptions.AddNode(string, string, Abstractions.IChunkStore, bool)"/>), as the
    /// remote region of <see cref="Abstractions.ReplicationStrategy.CrossRegion"/> containers for example.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="region">The region's name.</param>
    /// <param name="name">The node's name, unique across the topology.</param>
    /// <param name="store">The store; you dispose it after the blob store.</param>
    /// <param name="isCold">True for a cold-tier node.</param>
    public static BlobStoreBuilder AddS3Node(this BlobStoreBuilder builder, string region, string name, S3ChunkStore store, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(store);
        return builder.Configure(o => o.Topology.AddNode(region, name, store, isCold));
    }
}
