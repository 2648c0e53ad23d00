using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Replication;

public class RepairTests
{
    private const int Chunk = TopologyStore.Chunk;

    private static async Task<TopologyStore> WithBlobAsync(ReplicationStrategy strategy, byte[] content)
    {
        var t = await TopologyStore.OpenAsync();
        await t.Store.CreateContainerAsync("box", new ContainerOptions { ReplicationStrategy = strategy });
        await t.Store.UploadBytesAsync("box", "blob", content);
        await t.Store.RunMaintenanceAsync();
        return t;
    }

    [Test]
    public async Task A_flipped_byte_in_one_copy_is_read_around_and_repaired()
    {
        var content = Streams.Bytes((3 * Chunk) + 5, seed: 11);
        await using var t = await WithBlobAsync(ReplicationStrategy.Global, content);
        var primary = (await t.Store.GetLocationsAsync("box", "blob")).Copies.First(c => c.ChunkIndex == 1 && c.IsPrimary);
        var path = t.ChunkPath(primary.Node, primary.Chunk);
        var good = await File.ReadAllBytesAsync(path);
        var bad = (byte[])good.Clone();
        bad[^100] ^= 0x04;
        await File.WriteAllBytesAsync(path, bad);

        (await t.Store.DownloadBytesAsync("box", "blob")).Should().Equal(content);
        (await File.ReadAllBytesAsync(path)).Should().Equal(good, "the read rewrote the bad copy from a good one");
        (await t.Store.GetStatisticsAsync()).ReadRepairs.Should().Be(1);
        (await t.Store.ScrubAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task A_lost_node_folder_is_read_around_and_rebuilt_by_the_scrub()
    {
        var content = Streams.Bytes((6 * Chunk) + 1, seed: 12);
        await using var t = await WithBlobAsync(ReplicationStrategy.LocalRedundancy, content);
        var onNode = (await t.Store.GetLocationsAsync("box", "blob")).Copies.Where(c => c.Node == "home-2").ToList();
        onNode.Should().NotBeEmpty("three copies on three local nodes put one on each");

        // The disk of home-2 is lost while the store runs: reads go on from the other copies.
        Directory.Delete(t.NodePath("home-2"), recursive: true);
        (await t.Store.DownloadBytesAsync("box", "blob")).Should().Equal(content);

        // A new, empty disk is mounted in its place and the store restarts: the node gets its marker again and the scrub rebuilds it.
        await t.ReopenAsync();
        File.Exists(Path.Combine(t.NodePath("home-2"), ".store-id")).Should().BeTrue("an empty node folder is this store's (the marker of the others says which)");
        var scrub = await t.Store.ScrubAsync();
        scrub.MissingCopies.Should().Be(onNode.Count);
        scrub.RepairedCopies.Should().Be(onNode.Count);
        scrub.UnrecoverableChunks.Should().Be(0);
        scrub.ChunksChecked.Should().Be(7);
        scrub.CopiesChecked.Should().Be(21);
        scrub.BytesVerified.Should().Be(3L * content.Length);
        foreach (var copy in onNode) File.Exists(t.ChunkPath("home-2", copy.Chunk)).Should().BeTrue();

        var again = await t.Store.ScrubAsync();
        again.IsClean.Should().BeTrue();
        var locations = await t.Store.GetLocationsAsync("box", "blob");
        locations.Copies.Should().OnlyContain(c => c.State == ChunkCopyState.Present && c.LastVerifiedOn == t.Time.GetUtcNow());
        (await t.Store.DownloadBytesAsync("box", "blob")).Should().Equal(content);
    }

    [Test]
    public async Task Every_copy_corrupt_is_a_DataCorruptionException_and_unrecoverable_in_the_scrub()
    {
        var content = Streams.Bytes(Chunk + 3, seed: 13);
        await using var t = await WithBlobAsync(ReplicationStrategy.CrossRegion, content);
        var copies = (await t.Store.GetLocationsAsync("box", "blob")).Copies.Where(c => c.ChunkIndex == 0).ToList();
        copies.Should().HaveCount(4);
        foreach (var copy in copies)
        {
            var path = t.ChunkPath(copy.Node, copy.Chunk);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[^1] ^= 0xFF;
            await File.WriteAllBytesAsync(path, bytes);
        }

        var read = async () => await t.Store.DownloadBytesAsync("box", "blob");
        await read.Should().ThrowAsync<DataCorruptionException>();
        var scrub = await t.Store.ScrubAsync();
        scrub.UnrecoverableChunks.Should().Be(1);
        scrub.Unrecoverable.Should().Equal(copies[0].Chunk);
        scrub.CorruptCopies.Should().Be(4);
        scrub.RepairedCopies.Should().Be(0);
    }

    [Test]
    public async Task Small_blobs_of_a_LocalRedundancy_container_survive_the_loss_of_any_one_node()
    {
        await using var t = await TopologyStore.OpenAsync(TopologyStore.DefaultNodes.Where(n => n.Region == "home"));
        await t.Store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        await t.Store.CreateContainerAsync("single");
        var small = Streams.Bytes(300, seed: 14);
        var empty = Array.Empty<byte>();
        await t.Store.UploadBytesAsync("lrs", "small", small);
        await t.Store.UploadBytesAsync("lrs", "empty", empty);
        await t.Store.UploadBytesAsync("single", "small", small);
        (await t.Store.GetLocationsAsync("lrs", "small")).Copies.Should().HaveCount(3, "a small blob of a container with three copies is a chunk on three nodes, not a row in one database file");
        (await t.Store.GetLocationsAsync("single", "small")).IsInline.Should().BeTrue();

        foreach (var lost in new[] { "home-1", "home-2", "home-3" })
        {
            await t.CloseAsync();
            Directory.Delete(t.NodePath(lost), recursive: true);
            await t.ReopenAsync(dispose: false);
            (await t.Store.DownloadBytesAsync("lrs", "small")).Should().Equal(small, $"node {lost} is lost and two copies are left");
            (await t.Store.DownloadBytesAsync("lrs", "empty")).Should().BeEmpty();
            (await t.Store.ScrubAsync()).UnrecoverableChunks.Should().Be(0);
        }
    }
}
