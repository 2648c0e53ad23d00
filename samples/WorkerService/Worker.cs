using System.Globalization;
using System.Text;
using BlobStorage;
using BlobStorage.Abstractions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WorkerService;

/// <summary>Writes a few heartbeat blobs, lists them, and stops the host.</summary>
public sealed partial class Worker(IBlobStore store, IHostApplicationLifetime lifetime, TimeProvider timeProvider, ILogger<Worker> logger) : BackgroundService
{
    private const string Container = "heartbeats";
    private const int Beats = 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await EnsureContainerAsync(stoppingToken);

            // Each run writes its heartbeats under its own prefix, named by the time it started.
            var run = timeProvider.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), timeProvider);
            for (var beat = 1; beat <= Beats; beat++)
            {
                var now = timeProvider.GetUtcNow();
                var json = $$"""{"run":"{{run}}","beat":{{beat}},"at":"{{now:O}}","machine":"{{Environment.MachineName}}"}""";
                using var content = new MemoryStream(Encoding.UTF8.GetBytes(json), writable: false);
                var blob = await store.UploadAsync(Container, $"runs/{run}/beat-{beat}.json", content, new BlobUploadOptions
                {
                    ContentType = "application/json",
                    Tags = new Dictionary<string, string> { ["run"] = run },
                }, stoppingToken);
                LogWrote(Container, blob.Name, blob.Size, blob.ETag);

                if (beat < Beats)
                {
                    await timer.WaitForNextTickAsync(stoppingToken);
                }
            }

            // List what this run wrote, then count every heartbeat the store holds across runs.
            await foreach (var blob in store.ListAllAsync(Container, $"runs/{run}/", stoppingToken))
            {
                LogListed(blob.Name, blob.Size, blob.LastModified);
            }

            var page = await store.ListAsync(Container, new BlobListOptions { Prefix = "runs/", Delimiter = "/" }, stoppingToken);
            LogRuns(page.CommonPrefixes.Count);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping (Ctrl+C): nothing to finish.
        }
        finally
        {
            // The work is done: stop the host so that `dotnet run` returns.
            lifetime.StopApplication();
        }
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.CreateContainerAsync(Container, cancellationToken: cancellationToken);
            LogCreated(Container);
        }
        catch (ContainerAlreadyExistsException)
        {
            // Created by an earlier run: keep adding to it.
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Created container {Container}")]
    private partial void LogCreated(string container);

    [LoggerMessage(2, LogLevel.Information, "Wrote {Container}/{Name} ({Size} bytes, ETag {ETag})")]
    private partial void LogWrote(string container, string name, long size, string eTag);

    [LoggerMessage(3, LogLevel.Information, "Listed {Name}: {Size} bytes, modified {Modified:O}")]
    private partial void LogListed(string name, long size, DateTimeOffset modified);

    [LoggerMessage(4, LogLevel.Information, "The store holds heartbeats of {Runs} run(s) so far")]
    private partial void LogRuns(int runs);
}
