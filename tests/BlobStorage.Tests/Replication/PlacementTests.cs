using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Replication;

public class PlacementTests
{
    private const int Chunk = TopologyStore.Chunk;

    [TestCase(ReplicationStrategy.Single, 1, 0)]
    [TestCase(ReplicationStrategy.LocalRedundancy, 3, 0)]
    [TestCase(ReplicationStrategy.CrossRegion, 3, 1)]
    [TestCase(ReplicationStrategy.Global, 3, 2)]
    public async Task Each_strategy_places_its_copies(ReplicationStrategy strategy, int local, int remote)
    {
        await using var t = await TopologyStore.OpenAsync();
        await t.Store.CreateContainerAsync("box", new ContainerOptions { ReplicationStrategy = strategy });
        var content = Streams.Bytes((5 * Chunk) + 17, seed: 5);
        await t.Store.UploadBytesAsync("box", "blob", content);
        await t.Store.RunMaintenanceAsync();

        var locations = await t.Store.GetLocationsAsync("box", "blob");
        locations.IsInline.Should().BeFalse();
        locations.IsFullyReplicated.Should().BeTrue("the queue was processed by maintenance");
        foreach (var chunk in locations.Copies.GroupBy(c => c.ChunkIndex))
        {
            var copies = chunk.ToList();
            copies.Should().HaveCount(local + remote);
            copies.Select(c => c.Node).Should().OnlyHaveUniqueItems();
            copies.Count(c => c.Region == "home").Should().Be(local);
            copies.Where(c => c.Region != "home").Select(c => c.Region).Should().OnlyHaveUniqueItems();
            copies.Count(c => c.IsPrimary).Should().Be(1);
            copies[0].IsPrimary.Should().BeTrue();
            copies[0].Region.Should().Be("home");
            copies.Should().OnlyContain(c => c.State == ChunkCopyState.Present && c.StoredChecksum != null);
            if (strategy == ReplicationStrategy.Global) copies.Select(c => c.Region).Should().Contain(["east", "west"]);

            // What the locations say is what the folders hold: no copy anywhere else.
            t.CopiesOnDisk(copies[0].Chunk).Should().Be(local + remote);
            foreach (var copy in copies) File.Exists(t.ChunkPath(copy.Node, copy.Chunk)).Should().BeTrue();
        }

        (await t.Store.DownloadBytesAsync("box", "blob")).Should().Equal(content);
    }

    [Test]
    public async Task CrossRegion_spreads_its_remote_copies_over_the_other_regions()
    {
        await using var t = await TopologyStore.OpenAsync();
        await t.Store.CreateContainerAsync("box", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.CrossRegion });
        await t.Store.UploadBytesAsync("box", "blob", Streams.Bytes(40 * Chunk, seed: 6));
        await t.Store.RunMaintenanceAsync();
        var remote = (await t.Store.GetLocationsAsync("box", "blob")).Copies.Where(c => c.Region != "home").ToList();
        remote.Should().HaveCount(40);
        remote.Select(c => c.Region).Distinct().Should().BeEquivalentTo(["east", "west"], "each chunk's other region is chosen by rendezvous hashing");
    }

    [Test]
    public async Task Archive_copies_go_to_the_cold_nodes_of_a_region_first()
    {
        var nodes = TopologyStore.DefaultNodes.Append(("home", "home-cold")).Append(("east", "east-cold"));
        await using var t = await TopologyStore.OpenAsync(nodes, cold: ["home-cold", "east-cold"]);
        await t.Store.CreateContainerAsync("box", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global, DefaultStorageClass = StorageClass.Archive });
        await t.Store.CreateContainerAsync("hot", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        await t.Store.UploadBytesAsync("box", "a", Streams.Bytes(3 * Chunk, seed: 7));
        await t.Store.UploadBytesAsync("hot", "h", Streams.Bytes(3 * Chunk, seed: 8));
        await t.Store.RunMaintenanceAsync();

        foreach (var chunk in (await t.Store.GetLocationsAsync("box", "a")).Copies.GroupBy(c => c.ChunkIndex))
        {
            // One cold node in home: it holds a copy, the other two are hot; east's copy is on its cold node.
            chunk.Single(c => c.Region == "home" && c.IsCold).Node.Should().Be("home-cold");
            chunk.Single(c => c.Region == "east").Node.Should().Be("east-cold");
            chunk.Single(c => c.Region == "west").Node.Should().Be("west-1", "west has no cold node, so its hot one takes the copy");
        }

        (await t.Store.GetLocationsAsync("hot", "h")).Copies.Should().OnlyContain(c => !c.IsCold, "Standard copies go to hot nodes");
    }

    [Test]
    public async Task The_default_topology_is_one_node_in_the_store_folder()
    {
        using var folder = new TempFolder("default");
        await using (var store = await new BlobStoreBuilder(folder.Path).Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan).OpenAsync())
        {
            await store.CreateContainerAsync("box");
            await store.UploadBytesAsync("box", "big", Streams.Bytes(100_000, seed: 9));
            await store.UploadBytesAsync("box", "small", Streams.Bytes(100, seed: 10));
            var locations = await store.GetLocationsAsync("box", "big");
            locations.Copies.Should().ContainSingle().Which.Should().Match<ChunkCopyLocation>(c => c.Node == "local" && c.Region == "local" && c.IsPrimary);
            (await store.GetLocationsAsync("box", "small")).IsInline.Should().BeTrue("a Single container keeps small blobs inline, as before");
            (await store.GetPropertiesAsync("box", "big")).IsFullyReplicated.Should().BeNull("one copy: nothing to replicate");
        }

        File.Exists(Path.Combine(folder.Path, "metadata.db")).Should().BeTrue();
        Directory.EnumerateFiles(Path.Combine(folder.Path, "chunks"), "*", SearchOption.AllDirectories).Should().Contain(f => Path.GetFileName(f).Length == 64);
        File.Exists(Path.Combine(folder.Path, "chunks", ".store-id")).Should().BeTrue();
    }
}
