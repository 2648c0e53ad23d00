using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Replication;

namespace BlobStorage.Internal;

/// <summary>
/// Makes sure at open that the metadata and the chunks belong to one store. The metadata store keeps the
/// store's id; each chunk store that can (<see cref="IStoreMarker"/>) keeps the same id in a marker. A
/// metadata database that is missing, empty or of another store would make every chunk look like an
/// orphan of a crash, and the collector would delete them all: such a store is refused, with a message
/// that says what to do, and nothing is changed.
/// </summary>
internal static class StoreIdentityCheck
{
    /// <summary>
    /// Before the metadata store is opened: a SQLite database that is missing or empty would be made anew,
    /// so opening is refused at once when a chunk store already holds a marker or chunks.
    /// </summary>
    public static async Task CheckBeforeOpenAsync(IMetadataStore metadata, IReplicator replicator, CancellationToken cancellationToken)
    {
        if (metadata is not SqliteMetadataStore { HasDatabase: false } sqlite) return;
        foreach (var marker in Markers(replicator))
        {
            var existing = marker.Store.ReadStoreId();
            if (existing is null && !await HoldsChunksAsync(marker.Chunks, cancellationToken).ConfigureAwait(false)) continue;
            throw new BlobStorageException(
                BlobErrorCode.StoreUnavailable,
                $"The metadata database '{sqlite.DatabasePath}' is missing or empty, but the chunk folder '{marker.Store.Location}' holds the chunks of {(existing is null ? "a store" : $"store {existing}")}: "
                + "opening it as a new store would lose every blob. Restore the metadata database (with its -wal file, if one was kept) from a backup, or open the folder the database is in; "
                + "to start an empty store, use a new folder. Nothing was changed.");
        }
    }

    /// <summary>After the metadata store is open: every marker must name its id; a chunk store without one gets it, unless it holds chunks of an unknown store.</summary>
    public static async Task CheckAsync(IMetadataStore metadata, IReplicator replicator, CancellationToken cancellationToken)
    {
        var markers = Markers(replicator).ToList();
        if (markers.Count == 0) return;
        var storeId = await metadata.GetStoreIdAsync(cancellationToken).ConfigureAwait(false);
        var what = metadata is SqliteMetadataStore sqlite ? $"the metadata database '{sqlite.DatabasePath}'" : "the metadata store";
        bool? holdsNothing = null;
        foreach (var (marker, chunks) in markers)
        {
            var existing = marker.ReadStoreId();
            if (existing == storeId) continue;
            holdsNothing ??= (await metadata.ListContainersAsync(cancellationToken).ConfigureAwait(false)).Count == 0;
            if (existing is not null)
            {
                throw new BlobStorageException(
                    BlobErrorCode.StoreUnavailable,
                    $"The chunk folder '{marker.Location}' belongs to store {existing}, but {what} is of store {storeId}"
                    + (holdsNothing.Value ? " and holds no containers (it may have been made anew after the original was lost)" : "")
                    + ". Opening them together would lose blobs. Restore the metadata database of store " + existing + " from a backup, or open each store in its own folder. Nothing was changed.");
            }

            if (holdsNothing.Value && await HoldsChunksAsync(chunks, cancellationToken).ConfigureAwait(false))
            {
                throw new BlobStorageException(
                    BlobErrorCode.StoreUnavailable,
                    $"The chunk folder '{marker.Location}' holds chunks but no store marker, and {what} holds no containers: the chunks belong to a store whose metadata is lost. "
                    + "Restore the metadata database from a backup; to start an empty store, use a new folder. Nothing was changed.");
            }

            // A new chunk store, or one made before stores had ids, whose metadata holds blobs: it is this store's.
            marker.WriteStoreId(storeId);
        }
    }

    /// <summary>The chunk stores that keep a marker. A replicator other than the default one places chunks its own way and is trusted as it is.</summary>
    private static IEnumerable<(IStoreMarker Store, IChunkStore Chunks)> Markers(IReplicator replicator) =>
        replicator is RendezvousReplicator rendezvous
            ? rendezvous.Nodes.Where(n => n.Store is IStoreMarker).Select(n => ((IStoreMarker)n.Store, n.Store))
            : [];

    private static async Task<bool> HoldsChunksAsync(IChunkStore chunks, CancellationToken cancellationToken)
    {
        await foreach (var _ in chunks.EnumerateAsync(cancellationToken).ConfigureAwait(false)) return true;
        return false;
    }
}
