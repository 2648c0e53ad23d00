using BlobStorage.Abstractions;

namespace BlobStorage.Replication;

/// <summary>A chunk store that holds copies, with the name and region a replicator places by.</summary>
public sealed class StorageNode
{
    /// <summary>Creates a hot node.</summary>
    /// <param name="name">A stable name: placement hashes it, so renaming a node moves its chunks.</param>
    /// <param name="region">The region the node is in.</param>
    /// <param name="store">The chunk store holding the node's copies.</param>
    public StorageNode(string name, string region, IChunkStore store)
        : this(name, region, store, isCold: false)
    {
    }

    /// <summary>Creates a node.</summary>
    /// <param name="name">A stable name: placement hashes it, so renaming a node moves its chunks.</param>
    /// <param name="region">The region the node is in.</param>
    /// <param name="store">The chunk store holding the node's copies.</param>
    /// <param name="isCold">True for a cold-tier node, preferred for <see cref="StorageClass.Archive"/> and <see cref="StorageClass.ColdArchive"/> copies.</param>
    public StorageNode(string name, string region, IChunkStore store, bool isCold)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        ArgumentNullException.ThrowIfNull(store);
        Name = name;
        Region = region;
        Store = store;
        IsCold = isCold;
    }

    /// <summary>The node's stable name.</summary>
    public string Name { get; }

    /// <summary>The region the node is in.</summary>
    public string Region { get; }

    /// <summary>The chunk store holding the node's copies.</summary>
    public IChunkStore Store { get; }

    /// <summary>True for a cold-tier node: <see cref="StorageClass.Archive"/> and <see cref="StorageClass.ColdArchive"/> copies go to a region's cold nodes first, the other classes to its hot nodes first.</summary>
    public bool IsCold { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Region}{(IsCold ? ", cold" : "")})";
}
