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
}
