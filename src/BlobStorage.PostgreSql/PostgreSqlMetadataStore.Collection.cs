using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.PostgreSql.Internal;

namespace BlobStorage.PostgreSql;

/// <summary>
/// Collection across processes. The in-process chunk leases keep a collector from deleting a chunk an upload of the
/// same process has found; another process's upload is invisible to them. The protocol that covers it (see
/// <see cref="IChunkCollectionGuard"/>), enforced here:
/// <list type="number">
/// <item>Removing a chunk's row (<see cref="RemoveChunksAsync"/>) or taking an orphan file (<see cref="IChunkCollectionGuard.BeginOrphanRemovalAsync"/>)
/// opens a removal in <c>chunk_removals</c> in the same transaction, stamped with the collection epoch, which that
/// transaction takes up by one. <see cref="IChunkCollectionGuard.EndChunkRemovalAsync"/>, once the files are deleted, marks it done and stamps
/// it with a new epoch.</item>
/// <item>An upload reads the epoch before it checks its first chunk and commits with it. Under the writers' lock (every
/// writer locks the statistics row first, so the epoch and the removals are read as of the last commit), the commit is
/// refused with <see cref="BlobErrorCode.StoreBusy"/> when a chunk of it has a removal still open (begun within the last
/// hour by the database's clock), or one stamped after the upload's epoch. Nothing is committed; the caller uploads again.</item>
/// <item>Removals done for more than a day are pruned; <c>pruned_epoch</c> remembers the last epoch pruned, and a commit
/// with an older epoch that brings a chunk back from nothing is refused the same way, since its removal may be forgotten.</item>
/// </list>
/// Why it is enough: a removal that ended before the upload read the epoch deleted the file before the upload looked
/// for it, so the upload wrote it again; any other removal of one of its chunks is either seen by the commit, or
/// commits after it, and then it finds the row referenced and removes nothing.
/// </summary>
public sealed partial class PostgreSqlMetadataStore : IChunkCollectionGuard
{
    /// <summary>How long a removal may stay open before it is taken as abandoned (its process died between the row and the file).</summary>
    private const string AbandonedAfter = "1 hour";

    /// <summary>How long a finished removal is kept for commits of uploads that started before it.</summary>
    private const string KeptFor = "1 day";

    /// <inheritdoc />
    ValueTask<long> IChunkCollectionGuard.GetCollectionEpochAsync(CancellationToken cancellationToken) =>
        ReadAsync(
            0,
            static async (tx, _, ct) =>
            {
                using var command = tx.Command("SELECT collection_epoch FROM {S}.stats WHERE id = 1;");
                return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    ValueTask<BlobRecord> IChunkCollectionGuard.CommitBlobAsync(BlobRecord blob, BlobRequestConditions? conditions, long collectionEpoch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return WriteAsync((Blob: blob, Conditions: conditions, Epoch: collectionEpoch), static (tx, request, ct) => CommitAsync(tx, request.Blob, request.Conditions, request.Epoch, ct), cancellationToken);
    }

    /// <inheritdoc />
    ValueTask IChunkCollectionGuard.CommitPartAsync(PartRecord part, DateTimeOffset now, long collectionEpoch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(part);
        return WriteAsync((Part: part, Now: now, Epoch: collectionEpoch), static (tx, request, ct) => CommitPartAsync(tx, request.Part, request.Now, request.Epoch, ct), cancellationToken);
    }

    /// <inheritdoc />
    ValueTask<IReadOnlyList<ChunkId>> IChunkCollectionGuard.BeginOrphanRemovalAsync(IReadOnlyCollection<ChunkId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0) return ValueTask.FromResult<IReadOnlyList<ChunkId>>([]);
        return WriteAsync<IReadOnlyCollection<ChunkId>, IReadOnlyList<ChunkId>>(
            ids,
            static async (tx, ids, ct) =>
            {
                // Under the writers' lock: a commit that references one of these either came first (it has a row now and is
                // kept) or comes after, and then sees the open removal and is refused.
                var orphans = new List<ChunkId>();
                using (var command = tx.Command("SELECT u.id FROM unnest(@ids) AS u(id) WHERE NOT EXISTS (SELECT 1 FROM {S}.chunks c WHERE c.id = u.id);")
                    .BytesArray("@ids", ids.Select(id => id.ToArray()).ToArray()))
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) orphans.Add(ReadChunkId(reader, 0));
                }

                if (orphans.Count > 0) await OpenRemovalsAsync(tx, orphans.Select(id => id.ToArray()).ToArray(), ct).ConfigureAwait(false);
                return orphans;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    ValueTask IChunkCollectionGuard.EndChunkRemovalAsync(IReadOnlyCollection<ChunkId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0) return ValueTask.CompletedTask;
        return WriteAsync(
            ids,
            static async (tx, ids, ct) =>
            {
                using var command = tx.Command(
                    $"""
                    WITH epoch AS (UPDATE {"{S}"}.stats SET collection_epoch = collection_epoch + 1 WHERE id = 1 RETURNING collection_epoch)
                    UPDATE {"{S}"}.chunk_removals SET done = true, finished = now(), epoch = (SELECT collection_epoch FROM epoch) WHERE id = ANY(@ids);
                    WITH pruned AS (DELETE FROM {"{S}"}.chunk_removals WHERE done AND finished < now() - interval '{KeptFor}' RETURNING epoch)
                    UPDATE {"{S}"}.stats SET pruned_epoch = GREATEST(pruned_epoch, (SELECT COALESCE(MAX(epoch), 0) FROM pruned)) WHERE id = 1;
                    """)
                    .BytesArray("@ids", ids.Select(id => id.ToArray()).ToArray());
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <summary>Opens a removal of each chunk, at a new collection epoch, inside the caller's write transaction.</summary>
    private static async Task OpenRemovalsAsync(PgTx tx, byte[][] ids, CancellationToken ct)
    {
        using var command = tx.Command(
            """
            WITH epoch AS (UPDATE {S}.stats SET collection_epoch = collection_epoch + 1 WHERE id = 1 RETURNING collection_epoch)
            INSERT INTO {S}.chunk_removals (id, epoch, done, started, finished)
            SELECT u.id, (SELECT collection_epoch FROM epoch), false, now(), NULL FROM unnest(@ids) AS u(id)
            ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, done = false, started = excluded.started, finished = NULL;
            """)
            .BytesArray("@ids", ids);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses, inside a commit, chunks whose removal is still open or ended after <paramref name="collectionEpoch"/>, and,
    /// when the removals of that time may be pruned, any chunk the commit brought back from nothing.
    /// </summary>
    /// <exception cref="BlobStorageException">A chunk was removed by a collector meanwhile (<see cref="BlobErrorCode.StoreBusy"/>).</exception>
    private static async Task CheckRemovalsAsync(PgTx tx, IReadOnlyList<ChunkReference> chunks, long collectionEpoch, bool revivedAny, CancellationToken ct)
    {
        if (chunks.Count == 0) return;
        using var command = tx.Command(
            $"""
            SELECT (SELECT r.id FROM {"{S}"}.chunk_removals r
                    WHERE r.id = ANY(@ids) AND (r.epoch > @epoch OR (NOT r.done AND r.started > now() - interval '{AbandonedAfter}')) LIMIT 1),
                   (SELECT pruned_epoch FROM {"{S}"}.stats WHERE id = 1);
            """)
            .BytesArray("@ids", chunks.Select(c => c.Id.ToArray()).Distinct(ByteArrayComparer.Instance).ToArray())
            .Long("@epoch", collectionEpoch);
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        if (!reader.IsDBNull(0))
        {
            throw CollectedMeanwhile(new ChunkId(reader.Bytes(0)).ToString());
        }

        if (revivedAny && reader.GetInt64(1) > collectionEpoch)
        {
            throw CollectedMeanwhile("one of its chunks");
        }
    }

    private static BlobStorageException CollectedMeanwhile(string chunk) => new(
        BlobErrorCode.StoreBusy,
        $"The upload found chunk {chunk} already stored, but another process's collector was removing it meanwhile, so its file may be gone; nothing was committed. Upload again.");

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => BitConverter.ToInt32(obj, 0);
    }
}
