using BlobStorage.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BlobStorage.DependencyInjection;

/// <summary>
/// Runs the store's maintenance pass every <see cref="BlobStorageOptions.MaintenanceInterval"/> (by the registered
/// <see cref="TimeProvider"/>) for as long as the host runs; the store's own timer is off meanwhile. Stopping the
/// host cancels a pass in progress, quietly: a cancelled pass has changed nothing it had not finished.
/// </summary>
internal sealed class BlobStoreMaintenanceService(IBlobStore store, IOptions<BlobStorageOptions> options, TimeProvider time, ILoggerFactory? loggerFactory = null) : BackgroundService
{
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("BlobStorage");

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var inner = store switch { TracedBlobStore traced => traced.Inner, BlobStore plain => plain, _ => null };
        inner?.HandOverScheduleToHost();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.MaintenanceInterval;
        if (interval == Timeout.InfiniteTimeSpan) return;
        Log.MaintenanceHosted(_logger, interval);
        while (true)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await store.RunMaintenanceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                Log.MaintenanceCancelledByShutdown(_logger);
                return;
            }
            catch (ObjectDisposedException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // One failed pass must not stop the host or the next passes.
                Log.MaintenanceFailed(_logger, ex);
            }
        }
    }
}
