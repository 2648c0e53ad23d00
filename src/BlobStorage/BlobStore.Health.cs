using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    /// <summary>The store's root folder, in full.</summary>
    internal string RootPath => Path.GetFullPath(_options.RootPath);

    /// <summary>
    /// What a health check needs: opens the store if it is not open (so a store that cannot open fails here, with its typed
    /// error), reads its totals without writing, and says how much room its disk has left and whether the disk reserve
    /// had to be given up (a call met a full disk since the last maintenance pass that found room), and how many copies
    /// wait in the replication queue (blobs that are under-replicated until they are written).
    /// </summary>
    internal async Task<StoreHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var totals = await _metadata.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
        var queue = await UpdateReplicationTelemetryAsync(cancellationToken).ConfigureAwait(false);
        return new StoreHealth(DiskReserve.AvailableBytes(RootPath), _reserve.IsReleased, totals.TotalBlobs, queue.Length, queue.OldestEnqueuedOn);
    }

    /// <summary>What <see cref="CheckHealthAsync"/> found.</summary>
    internal readonly record struct StoreHealth(long? AvailableBytes, bool ReserveReleased, long Blobs, long PendingReplicas, DateTimeOffset? OldestPendingSince);
}
