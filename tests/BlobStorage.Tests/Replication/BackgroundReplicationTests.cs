using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Replication;

/// <summary>
/// The pass an upload starts in the background (<see cref="Replication.StorageTopologyOptions.ReplicateAfterUpload"/>):
/// copies owed to other regions are written without anyone running maintenance. Each test waits for the remote
/// nodes to report the writes, then closes the store, which waits for a pass under way, and reads the durable queue
/// after opening it again: nothing here depends on how long the pass takes.
/// </summary>
public class BackgroundReplicationTests
{
    private const int Chunk = TopologyStore.Chunk;
    private static readonly string[] Remote = ["east-1", "east-2", "west-1"];
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    [Test]
    public async Task An_upload_starts_a_pass_that_writes_the_copies_owed_to_other_regions()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });

        // Three chunks, each owed to east and west.
        var arrived = CountRemoteWrites(t, expected: 3 * 2);
        var content = Streams.Bytes((2 * Chunk) + 5, seed: 41);
        await t.Store.UploadBytesAsync("glo", "b", content);
        await arrived.WaitAsync(Guard);

        await t.ReopenAsync();
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(0, "the background pass wrote every copy and took it off the queue");
        (await t.Store.GetPropertiesAsync("glo", "b")).IsFullyReplicated.Should().BeTrue();
        (await t.Store.GetLocationsAsync("glo", "b")).Copies.Should().OnlyContain(c => c.State == ChunkCopyState.Present);
        var maintenance = await t.Store.RunMaintenanceAsync();
        maintenance.ReplicasWritten.Should().Be(0, "nothing was left for maintenance to do");

        // Every local copy gone: the blob is still whole, read from the other regions.
        foreach (var node in new[] { "home-1", "home-2", "home-3" })
        {
            if (Directory.Exists(t.NodePath(node))) Directory.Delete(t.NodePath(node), recursive: true);
            Directory.CreateDirectory(t.NodePath(node));
        }

        await t.ReopenAsync();
        (await t.Store.DownloadBytesAsync("glo", "b")).Should().Equal(content);
    }

    [Test]
    public async Task A_region_down_during_the_pass_keeps_its_copies_queued_and_a_later_upload_catches_them_up()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        foreach (var s in t.Switches.Values) s.IsDown = true;
        var failed = WhenRegionsRefuse(t);

        var first = Streams.Bytes((2 * Chunk) + 1, seed: 42);
        (await t.Store.UploadBytesAsync("glo", "first", first)).Size.Should().Be(first.Length, "an unreachable region never fails an upload");
        await failed.WaitAsync(Guard);
        await t.ReopenAsync();
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(6, "each failed copy stays queued for a retry");
        (await t.Store.GetPropertiesAsync("glo", "first")).IsFullyReplicated.Should().BeFalse();

        // The region is back and the first copies' backoff has passed: the next upload's pass writes them with its own.
        t.Time.Advance(TimeSpan.FromMinutes(5));
        var arrived = CountRemoteWrites(t, expected: 12);
        var second = Streams.Bytes((2 * Chunk) + 2, seed: 43);
        await t.Store.UploadBytesAsync("glo", "second", second);
        await arrived.WaitAsync(Guard);

        await t.ReopenAsync();
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(0);
        (await t.Store.GetPropertiesAsync("glo", "first")).IsFullyReplicated.Should().BeTrue();
        (await t.Store.GetPropertiesAsync("glo", "second")).IsFullyReplicated.Should().BeTrue();
        (await t.Store.ScrubAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task With_ReplicateAfterUpload_off_the_copies_wait_for_maintenance()
    {
        await using var t = await OpenAsync(replicateAfterUpload: false);
        await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        var writes = 0;
        foreach (var s in t.Switches.Values) s.Written = _ => Interlocked.Increment(ref writes);

        await t.Store.UploadBytesAsync("glo", "b", Streams.Bytes(Chunk + 1, seed: 44));
        await t.ReopenAsync();
        writes.Should().Be(0);
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(4);

        (await t.Store.RunMaintenanceAsync()).ReplicasWritten.Should().Be(4);
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(0);
    }

    private static async Task<TopologyStore> OpenAsync(bool replicateAfterUpload = true)
    {
        var t = await TopologyStore.OpenAsync(switchable: Remote);
        t.Configure = o => o.Topology.ReplicateAfterUpload = replicateAfterUpload;
        await t.ReopenAsync();
        return t;
    }

    /// <summary>Completes once the remote nodes (as they are now: a reopen makes new ones) have taken <paramref name="expected"/> writes.</summary>
    private static Task CountRemoteWrites(TopologyStore t, int expected)
    {
        var count = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var s in t.Switches.Values)
        {
            s.Written = _ =>
            {
                if (Interlocked.Increment(ref count) == expected) done.TrySetResult();
            };
        }

        return done.Task;
    }

    /// <summary>Completes once east (either node) and west (west-1) have each refused a call: the pass has tried both regions.</summary>
    private static Task WhenRegionsRefuse(TopologyStore t)
    {
        var east = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var west = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        t.Switches["east-1"].Refused = () => east.TrySetResult();
        t.Switches["east-2"].Refused = () => east.TrySetResult();
        t.Switches["west-1"].Refused = () => west.TrySetResult();
        return Task.WhenAll(east.Task, west.Task);
    }
}
