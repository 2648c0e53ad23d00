using BlobStorage.Abstractions;
using BlobStorage.Replication;
using BlobStorage.Tests.Support;
using FluentAssertions;
using Microsoft.Extensions.Options;
using NUnit.Framework;

namespace BlobStorage.Tests.Replication;

public class TopologyValidationTests
{
    private static async Task<string> RefusedAsync(string root, Action<StorageTopologyOptions> configure)
    {
        var open = () => new BlobStoreBuilder(root).Configure(o => configure(o.Topology)).OpenAsync();
        var error = (await open.Should().ThrowAsync<OptionsValidationException>()).Which;
        Directory.Exists(Path.Combine(root, "chunks")).Should().BeFalse("nothing is made when the options are refused");
        File.Exists(Path.Combine(root, "metadata.db")).Should().BeFalse();
        return error.Message;
    }

    [Test]
    public async Task Bad_topologies_are_refused_at_start_naming_the_setting()
    {
        using var folder = new TempFolder("bad-topology");
        var root = Path.Combine(folder.Path, "store");
        string N(string name) => Path.Combine(folder.Path, name);

        (await RefusedAsync(root, t => { t.LocalRegion = "mars"; t.AddNode("home", "a", N("a")); }))
            .Should().Contain("BlobStorageOptions.Topology.LocalRegion").And.Contain("mars");
        (await RefusedAsync(root, t => t.LocalRegion = "elsewhere"))
            .Should().Contain("BlobStorageOptions.Topology.LocalRegion");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", N("a")).AddNode("east", "a", N("b")); }))
            .Should().Contain("node 'a' twice");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", N("same")).AddNode("home", "b", Path.Combine(folder.Path, "x", "..", "same")); }))
            .Should().Contain("both on the folder");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", N("outer")).AddNode("home", "b", Path.Combine(N("outer"), "inner")); }))
            .Should().Contain("one inside the other");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", root); }))
            .Should().Contain("clashes with the metadata").And.Contain("RootPath");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", folder.Path); }))
            .Should().Contain("clashes with the metadata");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", Path.Combine(root, "metadata.db")); }))
            .Should().Contain("clashes with the metadata");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", N("a")); t.Regions.Add(new StorageRegionOptions { Name = "empty" }); }))
            .Should().Contain("region 'empty' has no nodes");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a/b", N("a")); }))
            .Should().Contain("node named 'a/b'");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.Regions.Add(new StorageRegionOptions { Name = "home", Nodes = { new StorageNodeOptions { Name = "n" } } }); }))
            .Should().Contain("exactly one of Path");
        (await RefusedAsync(root, t => { t.LocalRegion = "home"; t.AddNode("home", "a", N("a")); t.RetryInitialDelay = TimeSpan.Zero; }))
            .Should().Contain("BlobStorageOptions.Topology.RetryInitialDelay");
    }

    [Test]
    public async Task A_strategy_the_topology_cannot_keep_is_refused_at_creation()
    {
        using var folder = new TempFolder("unsatisfiable");
        await using var store = await new BlobStoreBuilder(Path.Combine(folder.Path, "store"))
            .Configure(o =>
            {
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                o.Topology.LocalRegion = "home";
                o.Topology.AddNode("home", "a", Path.Combine(folder.Path, "a")).AddNode("home", "b", Path.Combine(folder.Path, "b"));
            })
            .OpenAsync();

        var local = async () => await store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        (await local.Should().ThrowAsync<BlobStorageException>()).Which.Should().Match<BlobStorageException>(e =>
            e.ErrorCode == BlobErrorCode.ReplicationNotSatisfiable && e.Message.Contains("3 copies") && e.Message.Contains("has 2 node(s)"));
        var global = async () => await store.CreateContainerAsync("glb", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        (await global.Should().ThrowAsync<BlobStorageException>()).Which.ErrorCode.Should().Be(BlobErrorCode.ReplicationNotSatisfiable);
        (await store.ListContainersAsync().ToListAsync()).Should().BeEmpty("a refused creation changes nothing");
        await store.CreateContainerAsync("single");
    }

    [Test]
    public async Task Global_with_one_region_is_refused_and_says_why()
    {
        await using var t = await TopologyStore.OpenAsync(TopologyStore.DefaultNodes.Where(n => n.Region == "home"));
        var create = async () => await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        (await create.Should().ThrowAsync<BlobStorageException>()).Which.Message.Should().Contain("only the local region 'home'");
        await t.Store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
    }
}
