using BlobStorage.Diagnostics;
using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    private IAsyncDisposable? _changes;

    /// <summary>
    /// With a metadata store other processes share, follows their commits: the edge cache drops what they replaced or
    /// deleted, and the container and CDN settings kept in memory are read again.
    /// </summary>
    private async Task FollowChangesElsewhereAsync()
    {
        if (_metadata is not IMetadataChangeFeed feed) return;
        _changes = await feed.SubscribeAsync(OnChangedElsewhereAsync, CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask OnChangedElsewhereAsync(string? container, string? name)
    {
        if (_disposed != 0) return;
        if (container is null)
        {
            // Changes may have been missed: everything kept in memory is read again.
            _containers.Clear();
            _cdn.Clear();
            try
            {
                foreach (var known in await _metadata.ListContainersAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    await InvalidateEdgesAsync(known.Name, null).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is Abstractions.BlobStorageException or ObjectDisposedException)
            {
                Log.EdgeInvalidationFailed(_logger, ex, "*", null);
            }

            return;
        }

        if (name is null)
        {
            _containers.TryRemove(container, out _);
            _cdn.TryRemove(container, out _);
        }

        await InvalidateEdgesAsync(container, name).ConfigureAwait(false);
    }

    private async ValueTask StopFollowingChangesAsync()
    {
        if (Interlocked.Exchange(ref _changes, null) is { } changes) await changes.DisposeAsync().ConfigureAwait(false);
    }
}
