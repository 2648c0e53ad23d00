using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BlobStorage.HealthChecks;

/// <summary>
/// The store's health: unhealthy (the registration's failure status) when it cannot open or read its metadata, when its
/// disk has less free space than <see cref="BlobStorageHealthCheckOptions.MinimumFreeSpace"/>, or when it had to give up
/// its disk reserve because a call met a full disk; degraded when copies wait in the replication queue (blobs are
/// under-replicated: a node or region was unreachable, or an upload returned with its quorum but not every local copy);
/// healthy otherwise, with the free space, blob count and pending copies as data.
/// </summary>
internal sealed class BlobStorageHealthCheck(IBlobStore store, BlobStorageHealthCheckOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failure = context.Registration.FailureStatus;
        if (store is not TracedBlobStore { Inner: var inner })
        {
            // A store of the host's own making: all that can be asked is whether it answers.
            try
            {
                var statistics = await store.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
                return statistics.PendingReplicas > 0
                    ? HealthCheckResult.Degraded($"The store has under-replicated blobs: {statistics.PendingReplicas} copy(ies) wait in the replication queue.")
                    : HealthCheckResult.Healthy("The store answers.");
            }
            catch (BlobStorageException ex)
            {
                return new HealthCheckResult(failure, $"The store failed ({ex.ErrorCode}): {ex.Message}", ex);
            }
        }

        BlobStore.StoreHealth state;
        try
        {
            state = await inner.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex)
        {
            return new HealthCheckResult(failure, $"The store at '{inner.RootPath}' cannot be opened or read ({ex.ErrorCode}): {ex.Message}", ex, Data(inner, null, null, ex.ErrorCode));
        }

        var data = Data(inner, state.AvailableBytes, state.Blobs, null);
        data["pendingReplicas"] = state.PendingReplicas;
        if (state.ReserveReleased)
        {
            return new HealthCheckResult(failure, $"The disk that holds the store at '{inner.RootPath}' filled up: the store gave up its disk reserve to free space, and takes it back when a maintenance pass finds room. Free space, then run maintenance.", data: data);
        }

        if (state.AvailableBytes is { } free && free < options.MinimumFreeSpace)
        {
            return new HealthCheckResult(failure, $"The disk that holds the store at '{inner.RootPath}' is nearly full: {free} bytes free, less than the {options.MinimumFreeSpace} bytes BlobStorageHealthCheckOptions.MinimumFreeSpace asks for.", data: data);
        }

        if (state.PendingReplicas > 0)
        {
            var since = state.OldestPendingSince is { } oldest ? $", the oldest queued at {oldest:O}" : "";
            return HealthCheckResult.Degraded($"The store at '{inner.RootPath}' has under-replicated blobs: {state.PendingReplicas} copy(ies) wait in the replication queue{since}. They are written by the maintenance pass once their nodes answer; check that every node and region of the topology is reachable.", data: data);
        }

        return HealthCheckResult.Healthy($"The store at '{inner.RootPath}' is open; {state.Blobs} blob(s); {(state.AvailableBytes is { } bytes ? bytes + " bytes free" : "free space unknown")}.", data);
    }

    private static Dictionary<string, object> Data(BlobStore store, long? free, long? blobs, BlobErrorCode? error)
    {
        var data = new Dictionary<string, object> { ["rootPath"] = store.RootPath };
        if (free is { } bytes) data["availableBytes"] = bytes;
        if (blobs is { } count) data["blobs"] = count;
        if (error is { } code) data["errorCode"] = code.ToString();
        return data;
    }
}
