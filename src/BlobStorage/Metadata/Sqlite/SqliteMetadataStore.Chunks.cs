using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private int _enumerationPageSize = 500;

    /// <summary>How many rows the enumerations read at a time; tests make it small to cross many pages.</summary>
    internal int EnumerationPageSize
    {
        get => _enumerationPageSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _enumerationPageSize = value;
        }
    }

    private const string ReferenceChunkSql =
        """
        INSERT INTO chunks (id, length, refcount, unreferenced_since) VALUES (@id, @length, @count, NULL)
        ON CONFLICT (id) DO UPDATE SET refcount = refcount + @count, unreferenced_since = NULL
        RETURNING refcount;
        """;

    private const string ReleaseChunkSql =
        """
        UPDATE chunks SET refcount = refcount - @count,
            unreferenced_since = CASE WHEN refcount - @count = 0 THEN @now ELSE unreferenced_since END
        WHERE id = @id
        RETURNING refcount, length;
        """;

    private const string ApplyStatsSql =
        """
        UPDATE stats SET reads = reads + @reads, writes = writes + @writes, deletes = deletes + @deletes,
            bytes_read = bytes_read + @bytes_read, bytes_written = bytes_written + @bytes_written,
            stored_bytes = stored_bytes + @stored_bytes, chunk_count = chunk_count + @chunk_count
        WHERE id = 1;
        """;

    private const string ContainerTotalsSql = "SELECT name, blob_count, total_bytes FROM containers ORDER BY name;";
    private const string StatsSql = "SELECT reads, writes, deletes, bytes_read, bytes_written, stored_bytes, chunk_count FROM stats WHERE id = 1;";

    // The partial index chunks_unreferenced serves this scan: its WHERE repeats the index's.
    private const string CollectableChunksSql =
        "SELECT id, length FROM chunks WHERE refcount = 0 AND unreferenced_since < @before ORDER BY unreferenced_since LIMIT @limit;";

    private const string RemoveChunkSql = "DELETE FROM chunks WHERE id = @id AND refcount = 0 AND unreferenced_since < @before RETURNING length;";
    private const string ContainsChunkSql = "SELECT 1 FROM chunks WHERE id = @id;";
    private const string EnumerateChunksSql = "SELECT id, length, refcount FROM chunks WHERE id > @after ORDER BY id LIMIT @limit;";

    /// <summary>Changes to the statistics row gathered during one transaction and written once at its end.</summary>
    private struct StatsDelta
    {
        public long Reads, Writes, Deletes, BytesRead, BytesWritten, StoredBytes, ChunkCount;

        public readonly bool IsEmpty => (Reads | Writes | Deletes | BytesRead | BytesWritten | StoredBytes | ChunkCount) == 0;
    }

    /// <summary>
    /// Counts a reference for each entry of <paramref name="chunks"/> (a chunk listed k times gains k).
    /// A chunk whose count this brings up from nothing (a new chunk, or one awaiting collection) is
    /// live again: its bytes count as stored.
    /// </summary>
    private static void Reference(SqliteSession session, IReadOnlyList<ChunkReference> chunks, ref StatsDelta delta)
    {
        if (chunks.Count == 0) return;
        using var groups = ChunkGroups.Of(chunks);
        var statement = session.Statement(ReferenceChunkSql);
        while (groups.MoveNext(out var id, out var length, out var count))
        {
            id.WriteTo(session.IdBuffer);
            var refcount = statement.Set("@id", session.IdBuffer).Set("@length", length).Set("@count", count).ExecuteInt64();
            if (refcount == count)
            {
                delta.StoredBytes += length;
                delta.ChunkCount++;
            }
        }
    }

    /// <summary>
    /// Releases a reference for each entry of <paramref name="chunks"/>. A chunk whose count reaches zero
    /// is dead from <paramref name="now"/>: the collector removes it once the grace period has passed,
    /// so a reader still streaming the old version finishes it.
    /// </summary>
    /// <remarks>
    /// A chunk with no row is skipped: nothing counts it any more, and refusing would leave a blob that
    /// lost its chunk impossible to delete.
    /// </remarks>
    /// <exception cref="DataCorruptionException">A chunk has fewer references than are released: its count is wrong, and releasing would make it worse.</exception>
    private static void Release(SqliteSession session, IReadOnlyList<ChunkReference> chunks, DateTimeOffset now, ref StatsDelta delta)
    {
        if (chunks.Count == 0) return;
        using var groups = ChunkGroups.Of(chunks);
        var statement = session.Statement(ReleaseChunkSql);
        while (groups.MoveNext(out var id, out _, out var count))
        {
            id.WriteTo(session.IdBuffer);
            if (!statement.Set("@id", session.IdBuffer).Set("@count", count).Set("@now", Ticks(now)).TryExecute(out var refcount, out var length)) continue;
            if (refcount < 0)
            {
                throw new DataCorruptionException($"Chunk {id} would have {refcount} references after releasing {count}; its count is wrong. Run a verification.");
            }

            if (refcount == 0)
            {
                delta.StoredBytes -= length;
                delta.ChunkCount--;
            }
        }
    }

    private static void ApplyStats(SqliteSession session, in StatsDelta delta)
    {
        if (delta.IsEmpty) return;
        session.Statement(ApplyStatsSql)
            .Set("@reads", delta.Reads)
            .Set("@writes", delta.Writes)
            .Set("@deletes", delta.Deletes)
            .Set("@bytes_read", delta.BytesRead)
            .Set("@bytes_written", delta.BytesWritten)
            .Set("@stored_bytes", delta.StoredBytes)
            .Set("@chunk_count", delta.ChunkCount)
            .Execute();
    }

    /// <inheritdoc />
    public ValueTask<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            false,
            static (session, _) =>
            {
                var containers = new List<ContainerStatistics>();
                long blobs = 0, bytes = 0;
                using (var reader = session.Command(ContainerTotalsSql).ExecuteReader())
                {
                    while (reader.Read())
                    {
                        var container = new ContainerStatistics(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
                        blobs += container.BlobCount;
                        bytes += container.TotalBytes;
                        containers.Add(container);
                    }
                }

                using var stats = session.Command(StatsSql).ExecuteReader();
                if (!stats.Read()) throw new DataCorruptionException("The statistics row of the metadata database is missing.");
                return new BlobStatistics
                {
                    TotalBlobs = blobs,
                    TotalBytes = bytes,
                    ReadOperations = stats.GetInt64(0),
                    WriteOperations = stats.GetInt64(1),
                    DeleteOperations = stats.GetInt64(2),
                    BytesRead = stats.GetInt64(3),
                    BytesWritten = stats.GetInt64(4),
                    StoredBytes = stats.GetInt64(5),
                    ChunkCount = stats.GetInt64(6),
                    Containers = containers,
                };
            },
            snapshot: true,
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChunkReference>> GetCollectableChunksAsync(DateTimeOffset unreferencedBefore, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync<(DateTimeOffset Before, int Limit), IReadOnlyList<ChunkReference>>(
            (unreferencedBefore, limit),
            static (session, query) =>
            {
                var chunks = new List<ChunkReference>();
                using var reader = session.Command(CollectableChunksSql).Set("@before", Ticks(query.Before)).Set("@limit", query.Limit).ExecuteReader();
                while (reader.Read()) chunks.Add(new ChunkReference(ReadChunkId(reader, 0, session), reader.GetInt32(1)));
                return chunks;
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChunkReference>> RemoveChunksAsync(IReadOnlyCollection<ChunkId> ids, DateTimeOffset unreferencedBefore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0) return ValueTask.FromResult<IReadOnlyList<ChunkReference>>([]);

        // Durable whatever the synchronous mode: the caller deletes the files next, and a power cut must not
        // bring back this removal's rows, or the commits before it that released the chunks, without them.
        return WriteDurableAsync<(IReadOnlyCollection<ChunkId> Ids, DateTimeOffset Before), IReadOnlyList<ChunkReference>>(
            (ids, unreferencedBefore),
            static (session, request) =>
            {
                // A chunk referenced again since it was listed as collectable keeps its row: only what is
                // deleted here may have its file deleted.
                var removed = new List<ChunkReference>();
                var command = session.Command(RemoveChunkSql);
                foreach (var id in request.Ids)
                {
                    id.WriteTo(session.IdBuffer);
                    if (command.Set("@id", session.IdBuffer).Set("@before", Ticks(request.Before)).ExecuteScalar() is long length)
                    {
                        removed.Add(new ChunkReference(id, checked((int)length)));

                        // Copies still queued for the chunk are dropped with its row: nothing is owed of a chunk collected.
                        ForgetReplicas(session, session.IdBuffer);
                    }
                }

                return removed;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> ContainsChunkAsync(ChunkId id, CancellationToken cancellationToken = default) =>
        ReadAsync(
            id,
            static (session, id) =>
            {
                id.WriteTo(session.IdBuffer);
                return session.Command(ContainsChunkSql).Set("@id", session.IdBuffer).ExecuteScalar() is not null;
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    /// <remarks>Read a page at a time by key, so no connection or snapshot is held while the caller works on the rows.</remarks>
    public async IAsyncEnumerable<ChunkRecord> EnumerateChunksAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = Array.Empty<byte>();
        var pageSize = _enumerationPageSize;
        while (true)
        {
            var page = await ReadAsync(
                (After: after, PageSize: pageSize),
                static (session, query) =>
                {
                    var rows = new List<ChunkRecord>(query.PageSize);
                    using var reader = session.Command(EnumerateChunksSql).Set("@after", query.After).Set("@limit", query.PageSize).ExecuteReader();
                    while (reader.Read()) rows.Add(new ChunkRecord(ReadChunkId(reader, 0, session), reader.GetInt32(1), reader.GetInt64(2)));
                    return rows;
                },
                snapshot: false,
                cancellationToken).ConfigureAwait(false);
            foreach (var row in page) yield return row;
            if (page.Count < pageSize) yield break;
            after = page[^1].Id.ToArray();
        }
    }

    /// <summary>Reads a 32-byte id column through the session's buffer.</summary>
    private static ChunkId ReadChunkId(SqliteDataReader reader, int ordinal, SqliteSession session)
    {
        var bytes = reader.GetFieldValue<byte[]>(ordinal);
        if (bytes.Length != ChunkId.Size) throw new DataCorruptionException($"A stored chunk id is {bytes.Length} bytes long, not {ChunkId.Size}.");
        return new ChunkId(bytes);
    }
}
