using System.Diagnostics.Metrics;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Replication;

public class ReplicationQueueTests
{
    private const int Chunk = TopologyStore.Chunk;

    [Test]
    public async Task An_unreachable_region_delays_replication_and_catches_up_after_the_backoff()
    {
        await using var t = await TopologyStore.OpenAsync(switchable: ["east-1", "east-2", "west-1"]);
        await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        foreach (var s in t.Switches.Values) s.IsDown = true;

        var blobs = new Dictionary<string, byte[]>();
        for (var i = 0; i < 4; i++)
        {
            blobs[$"b{i}"] = Streams.Bytes((2 * Chunk) + 1 + i, seed: 20 + i);
            var stored = await t.Store.UploadBytesAsync("glo", $"b{i}", blobs[$"b{i}"]);
            stored.Size.Should().Be(blobs[$"b{i}"].Length, "an unreachable region never fails an upload");
        }

        // Three chunks a blob, each owed to east and west.
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(4 * 3 * 2);
        (await t.Store.GetPropertiesAsync("glo", "b0")).IsFullyReplicated.Should().BeFalse();
        (await t.Store.GetLocationsAsync("glo", "b0")).Copies.Where(c => c.Region != "home").Should().OnlyContain(c => c.State == ChunkCopyState.Queued);
        var down = await t.Store.RunMaintenanceAsync();
        (down.ReplicasWritten + down.ReplicasDropped).Should().Be(0);
        down.ReplicationQueueLength.Should().Be(24);
        (await QueueGaugesAsync()).Length.Should().Be(24);

        // Every copy has failed once, in that pass: none is due before its backoff.
        foreach (var s in t.Switches.Values) s.IsDown = false;
        var early = await t.Store.RunMaintenanceAsync();
        early.ReplicasWritten.Should().Be(0, "the retry waits for its backoff");
        t.Time.Advance(TimeSpan.FromMinutes(1));
        (await QueueGaugesAsync()).LagSeconds.Should().BeGreaterThanOrEqualTo(60);

        var caughtUp = await t.Store.RunMaintenanceAsync();
        caughtUp.ReplicasWritten.Should().Be(24);
        caughtUp.ReplicationQueueLength.Should().Be(0);
        (await QueueGaugesAsync()).Should().Be((0L, 0.0));
        foreach (var (name, content) in blobs)
        {
            (await t.Store.GetPropertiesAsync("glo", name)).IsFullyReplicated.Should().BeTrue();
            (await t.Store.GetLocationsAsync("glo", name)).Copies.Should().OnlyContain(c => c.State == ChunkCopyState.Present);
            (await t.Store.DownloadBytesAsync("glo", name)).Should().Equal(content);
        }

        (await t.Store.ScrubAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Retries_back_off_exponentially_under_the_clock()
    {
        await using var t = await TopologyStore.OpenAsync(switchable: ["west-1"]);
        t.Switches["west-1"].IsDown = true;
        await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        await t.Store.UploadBytesAsync("glo", "b", Streams.Bytes(Chunk + 1, seed: 30));
        await t.Store.RunMaintenanceAsync();
        var calls = t.Switches["west-1"].FailedCalls;

        // Attempts wait 10 s, 20 s, 40 s…: advancing 9 s at a time, each attempt comes no sooner than its delay.
        var attempts = new List<TimeSpan>();
        var start = t.Time.GetUtcNow();
        for (var step = 0; step < 20; step++)
        {
            t.Time.Advance(TimeSpan.FromSeconds(9));
            await t.Store.RunMaintenanceAsync();
            if (t.Switches["west-1"].FailedCalls > calls) attempts.Add(t.Time.GetUtcNow() - start);
            calls = t.Switches["west-1"].FailedCalls;
        }

        attempts.Should().HaveCountGreaterThanOrEqualTo(4);
        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => b - a).ToList();
        gaps.Should().BeInAscendingOrder("each wait is twice the last (to the nearest 9-second step)");
        gaps[^1].Should().BeGreaterThanOrEqualTo(2 * gaps[0]);
        attempts[0].Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(10), "the first retry waits RetryInitialDelay");

        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(2, "the copies stay queued while the region is down");
    }

    [Test]
    public async Task A_local_node_down_leaves_a_quorum_and_queues_its_copy()
    {
        await using var t = await TopologyStore.OpenAsync(switchable: ["home-3"]);
        await t.Store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        t.Switches["home-3"].IsDown = true;
        var content = Streams.Bytes((4 * Chunk) + 9, seed: 31);
        await t.Store.UploadBytesAsync("lrs", "b", content);
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(5, "each chunk's third copy waits");
        (await t.Store.GetPropertiesAsync("lrs", "b")).IsFullyReplicated.Should().BeFalse();

        t.Switches["home-3"].IsDown = false;
        t.Time.Advance(TimeSpan.FromMinutes(5));
        (await t.Store.RunMaintenanceAsync()).ReplicasWritten.Should().Be(5);
        (await t.Store.GetPropertiesAsync("lrs", "b")).IsFullyReplicated.Should().BeTrue();
        (await t.Store.GetLocationsAsync("lrs", "b")).Copies.Should().HaveCount(15).And.OnlyContain(c => c.State == ChunkCopyState.Present);
    }

    [Test]
    public async Task Fewer_than_a_quorum_of_local_copies_fails_the_upload_and_changes_nothing()
    {
        await using var t = await TopologyStore.OpenAsync(switchable: ["home-2", "home-3"]);
        await t.Store.CreateContainerAsync("lrs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        t.Switches["home-2"].IsDown = true;
        t.Switches["home-3"].IsDown = true;
        var upload = async () => await t.Store.UploadBytesAsync("lrs", "b", Streams.Bytes(Chunk + 1, seed: 32));
        (await upload.Should().ThrowAsync<BlobStorageException>()).Which.ErrorCode.Should().Be(BlobErrorCode.IOError);
        var get = async () => await t.Store.GetPropertiesAsync("lrs", "b");
        await get.Should().ThrowAsync<BlobNotFoundException>();
    }

    [Test]
    public async Task A_queued_copy_of_a_chunk_collected_meanwhile_is_dropped()
    {
        await using var t = await TopologyStore.OpenAsync(switchable: ["east-1", "east-2", "west-1"]);
        await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        foreach (var s in t.Switches.Values) s.IsDown = true;
        await t.Store.UploadBytesAsync("glo", "b", Streams.Bytes(Chunk + 1, seed: 33));
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(4);
        await t.Store.DeleteAsync("glo", "b");

        // The chunk is referenced by nothing; past the grace period the collector takes it, and its queued copies with it.
        t.Time.Advance(TimeSpan.FromMinutes(16));
        var report = await t.Store.RunMaintenanceAsync();
        report.ChunksCollected.Should().Be(2);
        report.ReplicationQueueLength.Should().Be(0);
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(0);

        // The region comes back: nothing is owed, nothing fails.
        foreach (var s in t.Switches.Values) s.IsDown = false;
        t.Time.Advance(TimeSpan.FromHours(2));
        var after = await t.Store.RunMaintenanceAsync();
        (after.ReplicasWritten + after.ReplicasPostponed).Should().Be(0);
    }

    [Test]
    public async Task The_queue_survives_a_restart()
    {
        await using var t = await TopologyStore.OpenAsync(switchable: ["west-1"]);
        await t.Store.CreateContainerAsync("glo", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.Global });
        t.Switches["west-1"].IsDown = true;
        var content = Streams.Bytes((2 * Chunk) + 1, seed: 34);
        await t.Store.UploadBytesAsync("glo", "b", content);
        await t.Store.RunMaintenanceAsync();
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(3);

        await t.ReopenAsync();
        (await t.Store.GetStatisticsAsync()).PendingReplicas.Should().Be(3, "the queue is in the metadata store");
        t.Time.Advance(TimeSpan.FromHours(2));
        (await t.Store.RunMaintenanceAsync()).ReplicasWritten.Should().Be(3);
        (await t.Store.GetLocationsAsync("glo", "b")).Copies.Where(c => c.Region == "west").Should().HaveCount(3).And.OnlyContain(c => c.State == ChunkCopyState.Present);
    }

    /// <summary>The replication gauges of the BlobStorage meter, read now.</summary>
    private static Task<(long Length, double LagSeconds)> QueueGaugesAsync()
    {
        long length = -1;
        double lag = -1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "BlobStorage" && instrument.Name.StartsWith("blobstorage.replication.", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "blobstorage.replication.queue.length") length = value;
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "blobstorage.replication.lag") lag = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return Task.FromResult((length, lag));
    }
}
