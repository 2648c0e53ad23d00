using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Replication;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BlobStorage.Tests.HealthChecks;

[Parallelizable(ParallelScope.All)]
public class HealthCheckTests
{
    private static async Task<HealthReportEntry> CheckAsync(Action<IServiceCollection> register, string name = "blobstorage")
    {
        var services = new ServiceCollection();
        services.AddLogging();
        register(services);
        await using var provider = services.BuildServiceProvider();
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries[name];
    }

    [Test]
    public async Task A_store_that_opens_with_room_on_its_disk_is_healthy()
    {
        using var folder = new TempFolder("health");
        var entry = await CheckAsync(s => s.AddBlobStorage(o => o.RootPath = folder.Path).AddHealthCheck(configure: o => o.MinimumFreeSpace = 0));
        entry.Status.Should().Be(HealthStatus.Healthy, entry.Description);
        entry.Data["blobs"].Should().Be(0L);
    }

    [Test]
    public async Task A_nearly_full_disk_is_unhealthy_and_says_so()
    {
        using var folder = new TempFolder("health");
        var entry = await CheckAsync(s => s.AddBlobStorage(o => o.RootPath = folder.Path).AddHealthCheck(configure: o => o.MinimumFreeSpace = long.MaxValue));
        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain("nearly full").And.Contain("MinimumFreeSpace");
    }

    [Test]
    public async Task A_store_that_cannot_open_reports_the_failure_status_with_its_error_code()
    {
        using var folder = new TempFolder("health");

        // The metadata database is a folder: the store cannot open.
        Directory.CreateDirectory(Path.Combine(folder.Path, "metadata.db"));
        var entry = await CheckAsync(
            s => s.AddKeyedBlobStorage("broken", o => o.RootPath = folder.Path).AddHealthCheck(failureStatus: HealthStatus.Degraded, configure: o => o.MinimumFreeSpace = 0),
            "blobstorage-broken");
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("cannot be opened or read");
        entry.Data.Should().ContainKey("errorCode");
    }

    [Test]
    public async Task Under_replicated_blobs_make_the_store_degraded_until_their_copies_are_written()
    {
        using var folder = new TempFolder("health");
        var remote = new FileSystemChunkStore(Path.Combine(folder.Path, "west"));
        var west = new SwitchableChunkStore(remote) { IsDown = true };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddBlobStorage(o =>
        {
            o.RootPath = Path.Combine(folder.Path, "store");
            o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            o.Topology.LocalRegion = "home";
            o.Topology.ReplicateAfterUpload = false;
            foreach (var node in (string[])["home-1", "home-2", "home-3"]) o.Topology.AddNode("home", node, Path.Combine(folder.Path, node));
            o.Topology.AddNode("west", "west-1", west);
        }).AddHealthCheck(configure: o => o.MinimumFreeSpace = 0);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IBlobStore>();
        var health = provider.GetRequiredService<HealthCheckService>();

        await store.CreateContainerAsync("docs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.CrossRegion });
        await store.UploadBytesAsync("docs", "b", Streams.Bytes(5000, seed: 3));

        var degraded = (await health.CheckHealthAsync()).Entries["blobstorage"];
        degraded.Status.Should().Be(HealthStatus.Degraded, degraded.Description);
        degraded.Description.Should().Contain("under-replicated");
        degraded.Data["pendingReplicas"].Should().BeOfType<long>().Which.Should().BePositive();

        west.IsDown = false;
        (await store.RunMaintenanceAsync()).ReplicationQueueLength.Should().Be(0);
        var healthy = (await health.CheckHealthAsync()).Entries["blobstorage"];
        healthy.Status.Should().Be(HealthStatus.Healthy, healthy.Description);
        healthy.Data["pendingReplicas"].Should().Be(0L);
        remote.Dispose();
    }
}
