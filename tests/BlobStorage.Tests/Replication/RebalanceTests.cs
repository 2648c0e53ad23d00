using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Replication;

public class RebalanceTests
{
    private const int Chunk = TopologyStore.Chunk;

    [Test]
    public async Task Adding_a_node_moves_about_its_share_of_copies_and_keeps_everything_readable()
    {
        (string, string)[] five = [("home", "n1"), ("home", "n2"), ("home", "n3"), ("home", "n4"), ("home", "n5")];
        await using var t = await TopologyStore.OpenAsync(five);
        await t.Store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        var blobs = new Dictionary<string, byte[]>();
        for (var i = 0; i < 12; i++)
        {
            blobs[$"b{i}"] = Streams.Bytes(10 * Chunk, seed: 40 + i);
            await t.Store.UploadBytesAsync("lrs", $"b{i}", blobs[$"b{i}"]);
        }

        const int Chunks = 120;
        (await t.Store.RebalanceAsync()).CopiesWritten.Should().Be(0, "nothing is displaced before the topology changes");

        t.Nodes = [.. t.Nodes, ("home", "n6", false)];
        await t.ReopenAsync();
        var report = await t.Store.RebalanceAsync();
        TestContext.Out.WriteLine($"Rebalance 5 -> 6 nodes: {report.CopiesWritten} of {Chunks * 3} copies moved (the new node's fair share is {Chunks * 3 / 6})");
        report.ChunksChecked.Should().Be(Chunks);
        report.CopiesWritten.Should().Be(report.CopiesRemoved, "each copy moved is written to its new node and removed from its old one");

        // Rendezvous hashing moves only what the new node wins: about a sixth of the copies, never a reshuffle.
        report.CopiesWritten.Should().BeInRange(Chunks * 3 / 6 / 2, Chunks * 3 / 6 * 2);
        Directory.EnumerateFiles(t.NodePath("n6"), "*", SearchOption.AllDirectories).Count(f => Path.GetFileName(f).Length == 64).Should().Be((int)report.CopiesWritten);

        foreach (var (name, content) in blobs)
        {
            (await t.Store.DownloadBytesAsync("lrs", name)).Should().Equal(content);
            foreach (var chunk in (await t.Store.GetLocationsAsync("lrs", name)).Copies.GroupBy(c => c.Chunk))
            {
                chunk.Should().HaveCount(3).And.OnlyContain(c => c.State == ChunkCopyState.Present);
                t.CopiesOnDisk(chunk.Key).Should().Be(3, "the displaced copy was removed once the new one was checked");
            }
        }

        (await t.Store.RebalanceAsync()).CopiesWritten.Should().Be(0, "a second pass finds nothing to move");
        (await t.Store.ScrubAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Removing_a_node_puts_its_copies_back_from_the_others()
    {
        (string, string)[] four = [("home", "n1"), ("home", "n2"), ("home", "n3"), ("home", "n4")];
        await using var t = await TopologyStore.OpenAsync(four);
        await t.Store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        var content = Streams.Bytes(20 * Chunk, seed: 50);
        await t.Store.UploadBytesAsync("lrs", "b", content);

        t.Nodes = [.. t.Nodes.Where(n => n.Node != "n4")];
        await t.ReopenAsync();
        var report = await t.Store.RebalanceAsync();
        report.CopiesWritten.Should().BeGreaterThan(0);
        report.CopiesRemoved.Should().Be(0, "the removed node is no longer reachable through the store");
        foreach (var chunk in (await t.Store.GetLocationsAsync("lrs", "b")).Copies.GroupBy(c => c.Chunk))
        {
            chunk.Select(c => c.Node).Should().BeEquivalentTo(["n1", "n2", "n3"]);
            chunk.Should().OnlyContain(c => c.State == ChunkCopyState.Present);
        }

        (await t.Store.DownloadBytesAsync("lrs", "b")).Should().Equal(content);
    }

    [Test]
    public async Task A_rebalance_never_deletes_a_copy_while_its_new_node_lacks_one()
    {
        await using var t = await TopologyStore.OpenAsync([("home", "n1"), ("home", "n2"), ("home", "n3")]);
        await t.Store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        var content = Streams.Bytes(30 * Chunk, seed: 51);
        await t.Store.UploadBytesAsync("lrs", "b", content);

        t.Nodes = [.. t.Nodes, ("home", "n4", false)];
        t.SwitchableNames = ["n4"];
        await t.ReopenAsync();
        t.Switches["n4"].IsDown = true;
        var report = await t.Store.RebalanceAsync();
        report.CopiesWritten.Should().Be(0);
        report.CopiesRemoved.Should().Be(0, "a copy leaves its old node only once its new node holds a checked one");
        (await t.Store.DownloadBytesAsync("lrs", "b")).Should().Equal(content);

        t.Switches["n4"].IsDown = false;
        var moved = await t.Store.RebalanceAsync();
        moved.CopiesWritten.Should().BeGreaterThan(0);
        moved.CopiesRemoved.Should().Be(moved.CopiesWritten);
        (await t.Store.DownloadBytesAsync("lrs", "b")).Should().Equal(content);
    }
}
