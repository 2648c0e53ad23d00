using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const int EnumerationPage = 1000;

    /// <summary>Changes to the statistics row gathered during one transaction, written once at its end.</summary>
    private sealed class StatsDelta
    {
        public long Reads, Writes, Deletes, BytesRead, BytesWritten, StoredBytes, ChunkCount;
    }

    private static void Tally(Dictionary<ChunkId, (long Count, int Length)> tally, IEnumerable<ChunkReference> chunks)
    {
        foreach (var chunk in chunks)
        {
            tally[chunk.Id] = (tally.GetValueOrDefault(chunk.Id).Count + 1, chunk.Length);
        }
    }

    /// <summary>Counts a reference for each entry (a chunk listed k times gets k); a chunk that comes to life adds to the stored bytes.</summary>
    private static void AddReferences(SqliteSession session, SqliteTransaction tx, IEnumerable<ChunkReference> chunks, StatsDelta delta)
    {
        var tally = new Dictionary<ChunkId, (long Count, int Length)>();
        Tally(tally, chunks);
        foreach (var (id, (count, length)) in tally)
        {
            var upsert = session.Command(
                """
                INSERT INTO chunks (id, length, refcount, unreferenced_since) VALUES (@id, @length, @count, NULL)
                ON CONFLICT (id) DO UPDATE SET refcount = refcount + excluded.refcount, unreferenced_since = NULL
                RETURNING refcount;
                """,
                tx);
            With(upsert, "@id", id.ToArray());
            With(upsert, "@length", length);
            With(upsert, "@count", count);
            if ((long)upsert.ExecuteScalar()! == count)
            {
                delta.StoredBytes += length;
                delta.ChunkCount++;
            }
        }
    }

    /// <summary>Releases references; a chunk whose count reaches zero starts its grace period now.</summary>
    private static void Release(SqliteSession session, SqliteTransaction tx, Dictionary<ChunkId, (long Count, int Length)> tally, DateTimeOffset now, StatsDelta delta)
    {
        foreach (var (id, (count, length)) in tally)
        {
            var update = session.Command(
                """
                UPDATE chunks SET refcount = refcount - @count,
                    unreferenced_since = CASE WHEN refcount - @count <= 0 THEN @now ELSE unreferenced_since END
                WHERE id = @id RETURNING refcount;
                """,
                tx);
            With(update, "@id", id.ToArray());
            With(update, "@count", count);
            With(update, "@now", Ticks(now));
            var remaining = update.ExecuteScalar();
            if (remaining is long left && left <= 0)
            {
                delta.StoredBytes -= length;
                delta.ChunkCount--;
            }
        }
    }

    private static void Release(SqliteSession session, SqliteTransaction tx, IEnumerable<ChunkReference> chunks, DateTimeOffset now, StatsDelta delta)
    {
        var tally = new Dictionary<ChunkId, (long Count, int Length)>();
        Tally(tally, chunks);
        Release(session, tx, tally, now, delta);
    }

    private static void ApplyStats(SqliteSession session, SqliteTransaction tx, StatsDelta d)
    {
        var update = session.Command(
            """
            UPDATE stats SET reads = reads + @reads, writes = writes + @writes, deletes = deletes + @deletes,
                bytes_read = bytes_read + @bytes_read, bytes_written = bytes_written + @bytes_written,
                stored_bytes = stored_bytes + @stored, chunk_count = chunk_count + @chunks
            WHERE id = 1;
            """,
            tx);
        With(update, "@reads", d.Reads);
        With(update, "@writes", d.Writes);
        With(update, "@deletes", d.Deletes);
        With(update, "@bytes_read", d.BytesRead);
        With(update, "@bytes_written", d.BytesWritten);
        With(update, "@stored", d.StoredBytes);
        With(update, "@chunks", d.ChunkCount);
        update.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public ValueTask<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            session =>
            {
                using var transaction = session.Connection.BeginTransaction(deferred: true);
                var containers = new List<ContainerStatistics>();
                using (var reader = session.Command("SELECT name, blob_count, total_bytes FROM containers ORDER BY name;", transaction).ExecuteReader())
                {
                    while (reader.Read()) containers.Add(new ContainerStatistics(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
                }

                using var stats = session.Command("SELECT reads, writes, deletes, bytes_read, bytes_written, stored_bytes, chunk_count FROM stats WHERE id = 1;", transaction).ExecuteReader();
                stats.Read();
                return new BlobStatistics
                {
                    TotalBlobs = containers.Sum(c => c.BlobCount),
                    TotalBytes = containers.Sum(c => c.TotalBytes),
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
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChunkReference>> GetCollectableChunksAsync(DateTimeOffset unreferencedBefore, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<ChunkReference>>(
            session =>
            {
                var command = session.Command("SELECT id, length FROM chunks WHERE refcount = 0 AND unreferenced_since < @before ORDER BY unreferenced_since LIMIT @limit;");
                With(command, "@before", Ticks(unreferencedBefore));
                With(command, "@limit", limit);
                var chunks = new List<ChunkReference>();
                using var reader = command.ExecuteReader();
                while (reader.Read()) chunks.Add(new ChunkReference(new ChunkId((byte[])reader[0]), reader.GetInt32(1)));
                return chunks;
            },
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChunkReference>> RemoveChunksAsync(IReadOnlyCollection<ChunkId> ids, DateTimeOffset unreferencedBefore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return WriteAsync<IReadOnlyList<ChunkReference>>(
            (session, tx) =>
            {
                var removed = new List<ChunkReference>();
                foreach (var id in ids)
                {
                    var delete = session.Command("DELETE FROM chunks WHERE id = @id AND refcount = 0 AND unreferenced_since < @before RETURNING length;", tx);
                    With(delete, "@id", id.ToArray());
                    With(delete, "@before", Ticks(unreferencedBefore));
                    if (delete.ExecuteScalar() is long length) removed.Add(new ChunkReference(id, (int)length));
                }

                return removed;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> ContainsChunkAsync(ChunkId id, CancellationToken cancellationToken = default) =>
        ReadAsync(session => With(session.Command("SELECT 1 FROM chunks WHERE id = @id;"), "@id", id.ToArray()).ExecuteScalar() is not null, cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChunkRecord> EnumerateChunksAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        byte[] after = [];
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = Read(session =>
            {
                var command = session.Command("SELECT id, length, refcount FROM chunks WHERE id > @after ORDER BY id LIMIT @limit;");
                With(command, "@after", after);
                With(command, "@limit", EnumerationPage);
                var rows = new List<ChunkRecord>();
                using var reader = command.ExecuteReader();
                while (reader.Read()) rows.Add(new ChunkRecord(new ChunkId((byte[])reader[0]), reader.GetInt32(1), reader.GetInt64(2)));
                return rows;
            });
            foreach (var row in page) yield return row;
            if (page.Count < EnumerationPage) yield break;
            after = page[^1].Id.ToArray();
            await Task.Yield();
        }
    }
}
