using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    /// <summary>The store's root folder, in full.</summary>
    internal string RootPath => Path.GetFullPath(_options.RootPath);

    /// <summary>
    /// What a health check needs: opens the store if it is not open (so a store that cannot open fails here, with its typed
    /// error), reads its totals without writing, and says how much room its disk has left and whether the disk reserve
    /// had to be given up (a call met a full disk since the last maintenance pass that found room).
    /// </summary>
    internal async Task<(long? AvailableBytes, bool ReserveReleased, long Blobs)> CheckHealthAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var totals = await _metadata.GetStatisticsAsync(cancellationToken).ConfigureAwait(false);
        return (DiskReserve.AvailableBytes(RootPath), _reserve.IsReleased, totals.TotalBlobs);
    }
}
