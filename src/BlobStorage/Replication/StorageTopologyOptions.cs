using BlobStorage.Abstractions;

namespace BlobStorage.Replication;

/// <summary>
/// Where chunks are kept: regions, each with named nodes, and which region is local. With no region
/// configured (the default) the store has one region with one node, the <c>chunks</c> folder under
/// <see cref="BlobStorageOptions.RootPath"/>, exactly as a store without a topology.
/// </summary>
/// <remarks>
/// What each <see cref="ReplicationStrategy"/> asks of the topology, and what is refused when a
/// container is created: <see cref="ReplicationStrategy.Single"/> one copy in the local region;
/// <see cref="ReplicationStrategy.LocalRedundancy"/> three copies on distinct local nodes (so the local
/// region needs at least three nodes; two are refused rather than quietly kept as two copies);
/// <see cref="ReplicationStrategy.CrossRegion"/> the three local copies plus one in one other region
/// (chosen per chunk by rendezvous hashing); <see cref="ReplicationStrategy.Global"/> the three local
/// copies plus one in every other region.
/// </remarks>
public sealed class StorageTopologyOptions
{
    /// <summary>The region, and the node, of the default topology.</summary>
    public const string DefaultName = "local";

    private const int MaxNameLength = 63;

    /// <summary>The name of the local region: where uploads write before they return. Default <c>local</c>.</summary>
    public string LocalRegion { get; set; } = DefaultName;

    /// <summary>The regions and their nodes. Empty (the default): one local node in the store's folder.</summary>
    public IList<StorageRegionOptions> Regions { get; } = [];

    /// <summary>How long a failed copy in the replication queue waits before its first retry; each further failure doubles it. More than zero; default 10 seconds.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two retries of a queued copy: at least <see cref="RetryInitialDelay"/>, at most a day. Default 1 hour.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// When an upload queues copies (for other regions, or a local node that failed), start a pass over the queue in
    /// the background right after its commit, instead of leaving them to the next maintenance pass. Default true.
    /// </summary>
    public bool ReplicateAfterUpload { get; set; } = true;

    /// <summary>True when regions are configured; false for the default single node.</summary>
    public bool IsConfigured => Regions.Count > 0;

    /// <summary>Adds a folder node to a region, creating the region at its first node.</summary>
    /// <param name="region">The region's name.</param>
    /// <param name="name">The node's name, unique across the topology.</param>
    /// <param name="path">The node's folder.</param>
    /// <param name="isCold">True for a cold-tier node (see <see cref="StorageNodeOptions.IsCold"/>).</param>
    public StorageTopologyOptions AddNode(string region, string name, string path, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        RegionNamed(region).Nodes.Add(new StorageNodeOptions { Name = name, Path = path, IsCold = isCold });
        return this;
    }

    /// <summary>Adds a node backed by a chunk store of your own (which you dispose) to a region, creating the region at its first node.</summary>
    public StorageTopologyOptions AddNode(string region, string name, IChunkStore store, bool isCold = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        RegionNamed(region).Nodes.Add(new StorageNodeOptions { Name = name, Store = store, IsCold = isCold });
        return this;
    }

    private StorageRegionOptions RegionNamed(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        var existing = Regions.FirstOrDefault(r => r.Name == region);
        if (existing is not null) return existing;
        var added = new StorageRegionOptions { Name = region };
        Regions.Add(added);
        return added;
    }

    /// <summary>Checks the topology against the store's root folder; returns the first problem, naming the setting, or null.</summary>
    internal string? Validate(string setting, string rootPath)
    {
        if (RetryInitialDelay <= TimeSpan.Zero || RetryInitialDelay > TimeSpan.FromDays(1))
            return $"{setting}.{nameof(RetryInitialDelay)} must be more than zero and at most a day; it is {RetryInitialDelay}.";
        if (RetryMaxDelay < RetryInitialDelay || RetryMaxDelay > TimeSpan.FromDays(1))
            return $"{setting}.{nameof(RetryMaxDelay)} must be at least {nameof(RetryInitialDelay)} ({RetryInitialDelay}) and at most a day; it is {RetryMaxDelay}.";
        if (!IsConfigured)
        {
            return LocalRegion == DefaultName
                ? null
                : $"{setting}.{nameof(LocalRegion)} is '{LocalRegion}', but no region is configured: with the default topology the only region is '{DefaultName}'. Add the region's nodes to {setting}.{nameof(Regions)}.";
        }

        var regionNames = new HashSet<string>(StringComparer.Ordinal);
        var nodeNames = new HashSet<string>(StringComparer.Ordinal);
        var folders = new List<(string Folder, string Node)>();
        var root = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(rootPath));
        foreach (var region in Regions)
        {
            if (region is null) return $"{setting}.{nameof(Regions)} holds a null region.";
            if (!IsName(region.Name))
                return $"{setting}.{nameof(Regions)} holds a region named '{region.Name}': a name is 1 to {MaxNameLength} letters, digits, '-', '_' or '.'.";
            if (!regionNames.Add(region.Name))
                return $"{setting}.{nameof(Regions)} names region '{region.Name}' twice; region names must be unique.";
            if (region.Nodes.Count == 0)
                return $"{setting}.{nameof(Regions)}: region '{region.Name}' has no nodes; a region needs at least one.";
            foreach (var node in region.Nodes)
            {
                if (node is null) return $"{setting}.{nameof(Regions)}: region '{region.Name}' holds a null node.";
                if (!IsName(node.Name))
                    return $"{setting}.{nameof(Regions)}: region '{region.Name}' holds a node named '{node.Name}': a name is 1 to {MaxNameLength} letters, digits, '-', '_' or '.'.";
                if (!nodeNames.Add(node.Name))
                    return $"{setting}.{nameof(Regions)} names node '{node.Name}' twice; node names must be unique across every region.";
                if ((node.Path is null) == (node.Store is null))
                    return $"{setting}.{nameof(Regions)}: node '{node.Name}' must have exactly one of {nameof(StorageNodeOptions.Path)} (a folder) and {nameof(StorageNodeOptions.Store)} (a chunk store of your own).";
                if (node.Path is null) continue;
                if (string.IsNullOrWhiteSpace(node.Path) || node.Path.AsSpan().IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
                    return $"{setting}.{nameof(Regions)}: node '{node.Name}' has the path '{node.Path}', which is not a valid folder path.";
                var folder = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(node.Path, root));
                if (SameOrInside(root, folder) || IsStoreFile(root, folder))
                    return $"{setting}.{nameof(Regions)}: node '{node.Name}' has the folder '{folder}', which clashes with the metadata in {nameof(BlobStorageOptions)}.{nameof(BlobStorageOptions.RootPath)} ('{root}'): a node's folder must not be the root, hold it, or take the name of one of its files. Use a subfolder such as '{System.IO.Path.Combine(root, node.Name)}' or another disk.";
                foreach (var (other, otherNode) in folders)
                {
                    if (PathComparer.Equals(other, folder))
                        return $"{setting}.{nameof(Regions)}: nodes '{otherNode}' and '{node.Name}' are both on the folder '{folder}'; each node needs its own folder, or two copies would be one.";
                    if (SameOrInside(other, folder) || SameOrInside(folder, other))
                        return $"{setting}.{nameof(Regions)}: the folder of node '{node.Name}' ('{folder}') and that of node '{otherNode}' ('{other}') are one inside the other; each node needs a folder of its own.";
                }

                folders.Add((folder, node.Name));
            }
        }

        if (!regionNames.Contains(LocalRegion))
            return $"{setting}.{nameof(LocalRegion)} is '{LocalRegion}', which is not one of the configured regions ({string.Join(", ", regionNames.Select(r => $"'{r}'"))}).";
        return null;
    }

    private static StringComparer PathComparer => OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>True when <paramref name="inner"/> is <paramref name="outer"/> or a folder under it.</summary>
    private static bool SameOrInside(string inner, string outer)
    {
        if (PathComparer.Equals(inner, outer)) return true;
        var prefix = outer.EndsWith(System.IO.Path.DirectorySeparatorChar) ? outer : outer + System.IO.Path.DirectorySeparatorChar;
        return inner.StartsWith(prefix, OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    private static bool IsStoreFile(string root, string folder)
    {
        if (!PathComparer.Equals(System.IO.Path.GetDirectoryName(folder), root)) return false;
        var name = System.IO.Path.GetFileName(folder);
        return name.StartsWith(DependencyInjection.StoreComposition.MetadataFileName, StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, Internal.DiskReserve.FileName, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && name is not "." and not "..";
}
