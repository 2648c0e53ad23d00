namespace BlobStorage.Replication;

/// <summary>A region of <see cref="StorageTopologyOptions"/>: a name and the nodes in it.</summary>
public sealed class StorageRegionOptions
{
    /// <summary>The region's name, unique in the topology: 1 to 63 letters, digits, '-', '_' or '.'.</summary>
    public string Name { get; set; } = "";

    /// <summary>The region's nodes; at least one.</summary>
    public IList<StorageNodeOptions> Nodes { get; } = [];
}
