using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Replication;

/// <summary>
/// A store over several node folders in a temporary folder: three local nodes (home-1 to home-3) in region
/// "home", and two more regions, "east" (east-1, east-2) and "west" (west-1). Nodes named in
/// <c>switchable</c> sit behind a <see cref="SwitchableChunkStore"/> so a test can take them down.
/// Fake clock, 64 KiB chunks, no maintenance schedule.
/// </summary>
internal sealed class TopologyStore : IAsyncDisposable
{
    public const int Chunk = BlobStorageOptions.MinChunkSize;
    public static readonly (string Region, string Node)[] DefaultNodes =
        [("home", "home-1"), ("home", "home-2"), ("home", "home-3"), ("east", "east-1"), ("east", "east-2"), ("west", "west-1")];

    private readonly List<FileSystemChunkStore> _ownStores = [];

    private TopologyStore(TempFolder folder, FakeTimeProvider time)
    {
        Folder = folder;
        Time = time;
    }

    public TempFolder Folder { get; }

    public FakeTimeProvider Time { get; }

    public IBlobStore Store { get; private set; } = null!;

    public (string Region, string Node, bool Cold)[] Nodes { get; set; } = [];

    public Dictionary<string, SwitchableChunkStore> Switches { get; } = new(StringComparer.Ordinal);

    public string[] SwitchableNames { get; set; } = [];

    public Action<BlobStorageOptions>? Configure { get; set; }

    public string StoreRoot => Path.Combine(Folder.Path, "store");

    public string NodePath(string node) => Path.Combine(Folder.Path, "nodes", node);

    public static async Task<TopologyStore> OpenAsync(IEnumerable<(string Region, string Node)>? nodes = null, string[]? switchable = null, string[]? cold = null)
    {
        var test = new TopologyStore(new TempFolder("topology"), new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero)))
        {
            Nodes = [.. (nodes ?? DefaultNodes).Select(n => (n.Region, n.Node, cold?.Contains(n.Node) == true))],
            SwitchableNames = switchable ?? [],
        };
        await test.ReopenAsync(dispose: false);
        return test;
    }

    /// <summary>Closes the store (if open) and opens it again over <see cref="Nodes"/>, as a restarted process with that topology would.</summary>
    public async Task ReopenAsync(bool dispose = true)
    {
        if (dispose) await CloseAsync();
        Switches.Clear();
        Store = await new BlobStoreBuilder(StoreRoot)
            .Configure(o =>
            {
                o.ChunkSize = Chunk;
                o.InlineThreshold = 4096;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                o.Topology.LocalRegion = "home";

                // Replication runs when a test calls maintenance, so counts do not race a background pass.
                o.Topology.ReplicateAfterUpload = false;
                foreach (var (region, node, isCold) in Nodes)
                {
                    if (SwitchableNames.Contains(node))
                    {
                        var inner = new FileSystemChunkStore(NodePath(node));
                        _ownStores.Add(inner);
                        var wrapper = new SwitchableChunkStore(inner);
                        Switches[node] = wrapper;
                        o.Topology.AddNode(region, node, wrapper, isCold);
                    }
                    else
                    {
                        o.Topology.AddNode(region, node, NodePath(node), isCold);
                    }
                }

                Configure?.Invoke(o);
            })
            .UseTimeProvider(Time)
            .OpenAsync();
    }

    public async Task CloseAsync()
    {
        await Store.DisposeAsync();
        foreach (var store in _ownStores) store.Dispose();
        _ownStores.Clear();
    }

    /// <summary>The chunk file of <paramref name="id"/> on a node's folder.</summary>
    public string ChunkPath(string node, ChunkId id) => Path.Combine(NodePath(node), id.ToString()[..2], id.ToString());

    /// <summary>How many node folders hold a file for the chunk.</summary>
    public int CopiesOnDisk(ChunkId id) => Nodes.Count(n => File.Exists(ChunkPath(n.Node, id)));

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        Folder.Dispose();
    }
}
