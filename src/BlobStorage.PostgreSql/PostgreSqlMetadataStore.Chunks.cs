using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.PostgreSql.Internal;
using Npgsql;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore
{
    /// <summary>Changes to the statistics row gathered during one transaction and written once at its end.</summary>
    private sealed class StatsDelta
    {
        public long Reads, Writes, Deletes, BytesRead, BytesWritten, StoredBytes, ChunkCount;

        public bool IsEmpty => (Reads | Writes | Deletes | BytesRead | BytesWritten | StoredBytes | ChunkCount) == 0;
    }

    /// <summary>The distinct chunks of a list, in id order, with how often each appears.</summary>
    private static (byte[][] Ids, int[] Lengths, long[] Counts) Group(IReadOnlyList<ChunkReference> chunks)
    {
        var groups = new SortedDictionary<ChunkId, (int Length, long Count)>();
        foreach (var chunk in chunks)
        {
            groups[chunk.Id] = groups.TryGetValue(chunk.Id, out var seen) ? (seen.Length, seen.Count + 1) : (chunk.Length, 1);
        }

        var ids = new byte[groups.Count][];
        var lengths = new int[groups.Count];
        var counts = new long[groups.Count];
        var i = 0;
        foreach (var (id, (length, count)) in groups)
        {
            ids[i] = id.ToArray();
            lengths[i] = length;
            counts[i] = count;
            i++;
        }

        return (ids, lengths, counts);
    }

    /// <summary>
    /// Counts a reference for each entry of <paramref name="chunks"/> (a chunk listed k times gains k), in one statement.
    /// A chunk whose count this brings up from nothing (a new chunk, or one awaiting collection) is live again: its bytes
    /// count as stored.
    /// </summary>
    private static async Task ReferenceAsync(PgTx tx, IReadOnlyList<ChunkReference> chunks, StatsDelta delta, CancellationToken ct)
    {
        if (chunks.Count == 0) return;
        var (ids, lengths, counts) = Group(chunks);
        using var command = tx.Command(
            """
            INSERT INTO {S}.chunks AS c (id, length, refcount, unreferenced_since)
            SELECT u.id, u.length, u.count, NULL FROM unnest(@ids, @lengths, @counts) AS u(id, length, count) ORDER BY u.id
            ON CONFLICT (id) DO UPDATE SET refcount = c.refcount + excluded.refcount, unreferenced_since = NULL
            RETURNING c.refcount, c.length, (SELECT u.count FROM unnest(@ids, @counts) AS u(id, count) WHERE u.id = c.id);
            """)
            .BytesArray("@ids", ids)
            .IntArray("@lengths", lengths)
            .LongArray("@counts", counts);
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (reader.GetInt64(0) != reader.GetInt64(2)) continue;
            delta.StoredBytes += reader.GetInt32(1);
            delta.ChunkCount++;
        }
    }

    /// <summary>
    /// Releases a reference for each entry of <paramref name="chunks"/>. A chunk whose count reaches zero is dead from
    /// <paramref name="now"/>: the collector removes it once the grace period has passed. A chunk with no row is skipped.
    /// </summary>
    /// <exception cref="DataCorruptionException">A chunk has fewer references than are released.</exception>
    private static async Task ReleaseAsync(PgTx tx, IReadOnlyList<ChunkReference> chunks, DateTimeOffset now, StatsDelta delta, CancellationToken ct)
    {
        if (chunks.Count == 0) return;
        var (ids, _, counts) = Group(chunks);
        using var command = tx.Command(
            """
            UPDATE {S}.chunks AS c SET refcount = c.refcount - u.count,
                unreferenced_since = CASE WHEN c.refcount - u.count = 0 THEN @now ELSE c.unreferenced_since END
            FROM unnest(@ids, @counts) AS u(id, count)
            WHERE c.id = u.id
            RETURNING c.id, c.refcount, c.length, u.count;
            """)
            .BytesArray("@ids", ids)
            .LongArray("@counts", counts)
            .Long("@now", Ticks(now));
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var refcount = reader.GetInt64(1);
            if (refcount < 0)
            {
                throw new DataCorruptionException($"Chunk {new ChunkId(reader.Bytes(0))} would have {refcount} references after releasing {reader.GetInt64(3)}; its count is wrong. Run a verification.");
            }

            if (refcount == 0)
            {
                delta.StoredBytes -= reader.GetInt32(2);
                delta.ChunkCount--;
            }
        }
    }

    private static async Task ApplyStatsAsync(PgTx tx, StatsDelta delta, CancellationToken ct)
    {
        if (delta.IsEmpty) return;
        using var command = tx.Command(
            """
            UPDATE {S}.stats SET reads = reads + @reads, writes = writes + @writes, deletes = deletes + @deletes,
                bytes_read = bytes_read + @bytes_read, bytes_written = bytes_written + @bytes_written,
                stored_bytes = stored_bytes + @stored_bytes, chunk_count = chunk_count + @chunk_count
            WHERE id = 1;
            """)
            .Long("@reads", delta.Reads)
            .Long("@writes", delta.Writes)
            .Long("@deletes", delta.Deletes)
            .Long("@bytes_read", delta.BytesRead)
            .Long("@bytes_written", delta.BytesWritten)
            .Long("@stored_bytes", delta.StoredBytes)
            .Long("@chunk_count", delta.ChunkCount);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            false,
            static async (tx, _, ct) =>
            {
                var containers = new List<ContainerStatistics>();
                long blobs = 0, bytes = 0;
                using (var command = tx.Command("SELECT name, blob_count, total_bytes FROM {S}.containers ORDER BY name;"))
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        var container = new ContainerStatistics(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
                        blobs += container.BlobCount;
                        bytes += container.TotalBytes;
                        containers.Add(container);
                    }
                }

                using var stats = tx.Command("SELECT reads, writes, deletes, bytes_read, bytes_written, stored_bytes, chunk_count FROM {S}.stats WHERE id = 1;");
                var row = await stats.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var rowScope = row.ConfigureAwait(false);
                if (!await row.ReadAsync(ct).ConfigureAwait(false)) throw new DataCorruptionException("The statistics row of the metadata database is missing.");
                return new BlobStatistics
                {
                    TotalBlobs = blobs,
                    TotalBytes = bytes,
                    ReadOperations = row.GetInt64(0),
                    WriteOperations = row.GetInt64(1),
                    DeleteOperations = row.GetInt64(2),
                    BytesRead = row.GetInt64(3),
                    BytesWritten = row.GetInt64(4),
                    StoredBytes = row.GetInt64(5),
                    ChunkCount = row.GetInt64(6),
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
            static async (tx, query, ct) =>
            {
                var chunks = new List<ChunkReference>();
                using var command = tx.Command("SELECT id, length FROM {S}.chunks WHERE refcount = 0 AND unreferenced_since < @before ORDER BY unreferenced_since LIMIT @limit;")
                    .Long("@before", Ticks(query.Before))
                    .Int("@limit", query.Limit);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) chunks.Add(new ChunkReference(ReadChunkId(reader, 0), reader.GetInt32(1)));
                return chunks;
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// PostgreSQL's commit is durable when it returns (with the server's default <c>synchronous_commit = on</c>), and so
    /// is every commit before it that released these chunks.
    /// </remarks>
    public ValueTask<IReadOnlyList<ChunkReference>> RemoveChunksAsync(IReadOnlyCollection<ChunkId> ids, DateTimeOffset unreferencedBefore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0) return ValueTask.FromResult<IReadOnlyList<ChunkReference>>([]);
        return WriteAsync<(IReadOnlyCollection<ChunkId> Ids, DateTimeOffset Before), IReadOnlyList<ChunkReference>>(
            (ids, unreferencedBefore),
            static async (tx, request, ct) =>
            {
                // A chunk referenced again since it was listed as collectable keeps its row: only what is deleted here
                // may have its file deleted. Its queued copies and verification times go with it.
                var removed = new List<ChunkReference>();
                var idArray = request.Ids.Select(id => id.ToArray()).ToArray();
                using (var command = tx.Command(
                    "DELETE FROM {S}.chunks WHERE id = ANY(@ids) AND refcount = 0 AND unreferenced_since < @before RETURNING id, length;")
                    .BytesArray("@ids", idArray)
                    .Long("@before", Ticks(request.Before)))
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) removed.Add(new ChunkReference(ReadChunkId(reader, 0), reader.GetInt32(1)));
                }

                if (removed.Count > 0)
                {
                    // Open until the caller's EndChunkRemovalAsync: an upload of another process that found one of these files cannot commit it meanwhile.
                    await OpenRemovalsAsync(tx, removed.Select(c => c.Id.ToArray()).ToArray(), ct).ConfigureAwait(false);
                    using var forget = tx.Command(
                        """
                        DELETE FROM {S}.replication_queue WHERE chunk_id = ANY(@ids);
                        DELETE FROM {S}.chunk_verifications WHERE chunk_id = ANY(@ids);
                        """)
                        .BytesArray("@ids", removed.Select(c => c.Id.ToArray()).ToArray());
                    await forget.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                return removed;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> ContainsChunkAsync(ChunkId id, CancellationToken cancellationToken = default) =>
        ReadAsync(
            id,
            static async (tx, id, ct) =>
            {
                using var command = tx.Command("SELECT 1 FROM {S}.chunks WHERE id = @id;").Bytes("@id", id.ToArray());
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null;
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    /// <remarks>Read a page at a time by key, so no connection or snapshot is held while the caller works on the rows.</remarks>
    public async IAsyncEnumerable<ChunkRecord> EnumerateChunksAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = Array.Empty<byte>();
        var pageSize = EnumerationPageSize;
        while (true)
        {
            var page = await ReadAsync(
                (After: after, PageSize: pageSize),
                static async (tx, query, ct) =>
                {
                    var rows = new List<ChunkRecord>(query.PageSize);
                    using var command = tx.Command("SELECT id, length, refcount FROM {S}.chunks WHERE id > @after ORDER BY id LIMIT @limit;")
                        .Bytes("@after", query.After)
                        .Int("@limit", query.PageSize);
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(new ChunkRecord(ReadChunkId(reader, 0), reader.GetInt32(1), reader.GetInt64(2)));
                    return rows;
                },
                snapshot: false,
                cancellationToken).ConfigureAwait(false);
            foreach (var row in page) yield return row;
            if (page.Count < pageSize) yield break;
            after = page[^1].Id.ToArray();
        }
    }

    private static ChunkId ReadChunkId(NpgsqlDataReader reader, int ordinal)
    {
        var bytes = reader.Bytes(ordinal);
        if (bytes.Length != ChunkId.Size) throw new DataCorruptionException($"A stored chunk id is {bytes.Length} bytes long, not {ChunkId.Size}.");
        return new ChunkId(bytes);
    }
}
