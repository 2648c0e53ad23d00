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

    // Made when the host starts, not when ExecuteAsync gets round to it (a thread-pool task since .NET 10): the first pass is
    // due one interval after the start, and a clock advanced right after StartAsync returns is seen.
    private PeriodicTimer? _timer;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var inner = store switch { TracedBlobStore traced => traced.Inner, BlobStore plain => plain, _ => null };
        inner?.HandOverScheduleToHost();
        var interval = options.Value.MaintenanceInterval;
        if (interval != Timeout.InfiniteTimeSpan) _timer = new PeriodicTimer(interval, time);
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timer is not { } timer) return;
        Log.MaintenanceHosted(_logger, options.Value.MaintenanceInterval);
        while (true)
        {
            try
            {
                // A pass longer than the interval is followed by the next at once, not by a burst of the ticks it missed.
                if (!await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false)) return;
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
