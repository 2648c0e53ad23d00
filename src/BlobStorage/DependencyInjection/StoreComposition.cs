using BlobStorage.Abstractions;
using System.Diagnostics.Metrics;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Diagnostics;
using BlobStorage.EdgeCache;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Replication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BlobStorage.DependencyInjection;

/// <summary>How the default services are made from the options; shared by DI and <see cref="BlobStoreBuilder"/>.</summary>
internal static class StoreComposition
{
    public const string MetadataFileName = "metadata.db";
    public const string ChunksFolderName = "chunks";
    public const string LocalNodeName = "local";

    public static void Validate(BlobStorageOptions options)
    {
        var problems = options.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(BlobStorageOptions), problems);
        }
    }

    public static string RootOf(BlobStorageOptions options)
    {
        var root = Path.GetFullPath(options.RootPath);
        Directory.CreateDirectory(root);
        return root;
    }

    public static IMetadataStore CreateMetadataStore(BlobStorageOptions options) =>
        new SqliteMetadataStore(new SqliteMetadataStoreOptions
        {
            DatabasePath = Path.Combine(RootOf(options), MetadataFileName),
            SynchronousMode = options.SynchronousMode,
            BusyTimeout = options.BusyTimeout,
        });

    public static IChunkStore CreateChunkStore(BlobStorageOptions options) =>
        new FileSystemChunkStore(Path.Combine(RootOf(options), ChunksFolderName));

    public static IReplicator CreateReplicator(IChunkStore chunks, ILoggerFactory loggerFactory) =>
        new RendezvousReplicator([new StorageNode(LocalNodeName, LocalNodeName, chunks)], LocalNodeName, loggerFactory.CreateLogger<RendezvousReplicator>(), owned: []);

    /// <summary>
    /// The replicator over the configured topology: a <see cref="FileSystemChunkStore"/> for each node given a
    /// folder (disposed with the replicator), the caller's store for each node given one.
    /// </summary>
    public static RendezvousReplicator CreateTopologyReplicator(BlobStorageOptions options, ILoggerFactory loggerFactory)
    {
        var topology = options.Topology;
        var root = RootOf(options);
        var owned = new List<IDisposable>();
        var nodes = new List<StorageNode>();
        try
        {
            foreach (var region in topology.Regions)
            {
                foreach (var node in region.Nodes)
                {
                    IChunkStore store;
                    if (node.Store is { } given)
                    {
                        store = given;
                    }
                    else
                    {
                        var made = new FileSystemChunkStore(Path.GetFullPath(node.Path!, root));
                        owned.Add(made);
                        store = made;
                    }

                    nodes.Add(new StorageNode(node.Name, region.Name, store, node.IsCold));
                }
            }

            return new RendezvousReplicator(nodes, topology.LocalRegion, loggerFactory.CreateLogger<RendezvousReplicator>(), owned);
        }
        catch
        {
            foreach (var made in owned) made.Dispose();
            throw;
        }
    }

    public static IEdgeCache CreateEdgeCache(BlobStorageOptions options, TimeProvider time, IMeterFactory? meterFactory = null) =>
        new MemoryEdgeCache(options.EdgeCacheCapacity, time, meterFactory);

    public static TracedBlobStore CreateStore(IMetadataStore metadata, IReplicator replicator, IEdgeCache edgeCache, BlobStorageOptions options, TimeProvider time, ILoggerFactory loggerFactory, IReadOnlyList<object> owned, IMeterFactory? meterFactory = null)
    {
        Tiers.Tiering.ApplyTreatments(replicator, options);
        return new(new BlobStore(metadata, replicator, edgeCache, options, time, loggerFactory.CreateLogger("BlobStorage"), owned, meterFactory));
    }

    /// <summary>Disposes services a store owns, last made first.</summary>
    public static async ValueTask DisposeAllAsync(IReadOnlyList<object> services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            switch (services[i])
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}
