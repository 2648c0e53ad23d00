using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// Implemented by a metadata store that several processes share (PostgreSQL), where the in-process
/// <see cref="ChunkLeases"/> cannot see another process's uploads. It closes the race in which process A finds a
/// chunk already stored (and so does not write it) while process B's collector removes that chunk's row and then
/// deletes its file: A's commit would count a reference to a file that is about to disappear.
/// </summary>
/// <remarks>
/// The protocol, enforced by the store in its transactions:
/// <list type="number">
/// <item>Every removal of a chunk (the collector's <see cref="IMetadataStore.RemoveChunksAsync"/>, an orphan's
/// <see cref="BeginOrphanRemovalAsync"/>) records a removal in the same transaction that takes the store's
/// <em>collection epoch</em> up by one, and the removal is open until <see cref="EndChunkRemovalAsync"/> says the
/// files are gone (which takes the epoch up again and stamps the removal with it).</item>
/// <item>An upload reads the epoch (<see cref="GetCollectionEpochAsync"/>) before it checks or writes its first chunk,
/// and commits with it. The commit, under the writers' lock, fails with <see cref="BlobErrorCode.StoreBusy"/>
/// (nothing changed; the upload can be retried) when one of its chunks has a removal that is still open, or that
/// ended after the epoch the upload read: the file the upload found may be gone. A removal that ended before the
/// upload read the epoch is harmless: the upload checked for the file after it was deleted, and wrote it again.</item>
/// <item>A removal still open an hour after it began is taken as abandoned (its process died): its file is an orphan
/// that a later sweep deletes only after checking, again under a removal of its own, that no row refers to it.</item>
/// </list>
/// </remarks>
internal interface IChunkCollectionGuard
{
    /// <summary>The store's collection epoch now; read by an upload before it looks at its first chunk.</summary>
    ValueTask<long> GetCollectionEpochAsync(CancellationToken cancellationToken);

    /// <summary><see cref="IMetadataStore.CommitBlobAsync"/>, refused when a chunk was being removed since <paramref name="collectionEpoch"/>.</summary>
    /// <exception cref="BlobStorageException">A chunk of the blob was removed by a collector meanwhile (<see cref="BlobErrorCode.StoreBusy"/>).</exception>
    ValueTask<BlobRecord> CommitBlobAsync(BlobRecord blob, BlobRequestConditions? conditions, long collectionEpoch, CancellationToken cancellationToken);

    /// <summary><see cref="IMetadataStore.CommitPartAsync"/>, refused as <see cref="CommitBlobAsync"/> is.</summary>
    ValueTask CommitPartAsync(PartRecord part, DateTimeOffset now, long collectionEpoch, CancellationToken cancellationToken);

    /// <summary>Opens a removal for each of <paramref name="ids"/> that has no chunk row, and returns those: only their files may be deleted.</summary>
    ValueTask<IReadOnlyList<ChunkId>> BeginOrphanRemovalAsync(IReadOnlyCollection<ChunkId> ids, CancellationToken cancellationToken);

    /// <summary>Ends the removals of <paramref name="ids"/>: their files are deleted.</summary>
    ValueTask EndChunkRemovalAsync(IReadOnlyCollection<ChunkId> ids, CancellationToken cancellationToken);
}
