using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const string EnqueueReplicaSql =
        "INSERT INTO replication_queue (chunk_id, node, length, enqueued, attempts, next_attempt, last_error) VALUES (@id, @node, @length, @enqueued, @attempts, @next, @error) ON CONFLICT (chunk_id, node) DO NOTHING;";

    private const string ReplicaColumns = "chunk_id, node, length, enqueued, attempts, next_attempt, last_error";
    private const string DueReplicasSql = $"SELECT {ReplicaColumns} FROM replication_queue WHERE next_attempt <= @due ORDER BY next_attempt LIMIT @limit;";
    private const string QueuedReplicasSql = $"SELECT {ReplicaColumns} FROM replication_queue WHERE chunk_id = @id;";
    private const string RemoveReplicaSql = "DELETE FROM replication_queue WHERE chunk_id = @id AND node = @node;";
    private const string PostponeReplicaSql = "UPDATE replication_queue SET attempts = @attempts, next_attempt = @next, last_error = @error WHERE chunk_id = @id AND node = @node;";
    private const string QueueStatusSql = "SELECT COUNT(*), MIN(enqueued) FROM replication_queue;";
    private const string ForgetReplicasSql = "DELETE FROM replication_queue WHERE chunk_id = @id;";
    private const string ForgetVerificationsSql = "DELETE FROM chunk_verifications WHERE chunk_id = @id;";

    private const string RecordVerificationSql =
        "INSERT INTO chunk_verifications (chunk_id, node, verified) VALUES (@id, @node, @verified) ON CONFLICT (chunk_id, node) DO UPDATE SET verified = excluded.verified;";

    private const string VerificationsSql = "SELECT chunk_id, node, verified FROM chunk_verifications WHERE chunk_id = @id;";

    /// <inheritdoc />
    public ValueTask EnqueueReplicasAsync(IReadOnlyCollection<ReplicaWork> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (work.Count == 0) return ValueTask.CompletedTask;
        return WriteAsync(
            work,
            static (session, work) =>
            {
                var command = session.Command(EnqueueReplicaSql);
                foreach (var item in work)
                {
                    command.Set("@id", item.Chunk.ToArray())
                        .Set("@node", item.Node)
                        .Set("@length", (long)item.Length)
                        .Set("@enqueued", Ticks(item.EnqueuedOn))
                        .Set("@attempts", (long)item.Attempts)
                        .Set("@next", Ticks(item.NextAttemptOn))
                        .Set("@error", item.LastError)
                        .ExecuteNonQuery();
                }
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ReplicaWork>> GetDueReplicasAsync(DateTimeOffset dueBy, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync(
            (Due: Ticks(dueBy), Limit: limit),
            static (session, query) =>
            {
                var rows = new List<ReplicaWork>();
                using var reader = session.Command(DueReplicasSql).Set("@due", query.Due).Set("@limit", (long)query.Limit).ExecuteReader();
                while (reader.Read()) rows.Add(ReadReplica(reader, session));
                return (IReadOnlyList<ReplicaWork>)rows;
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ReplicaWork>> GetQueuedReplicasAsync(IReadOnlyCollection<ChunkId> chunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        return ReadAsync(
            chunks,
            static (session, chunks) =>
            {
                var rows = new List<ReplicaWork>();
                var command = session.Command(QueuedReplicasSql);
                foreach (var id in chunks)
                {
                    using var reader = command.Set("@id", id.ToArray()).ExecuteReader();
                    while (reader.Read()) rows.Add(ReadReplica(reader, session));
                }

                return (IReadOnlyList<ReplicaWork>)rows;
            },
            snapshot: true,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask RemoveReplicaAsync(ChunkId chunk, string node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        return WriteAsync(
            (Chunk: chunk, Node: node),
            static (session, item) =>
            {
                session.Command(RemoveReplicaSql).Set("@id", item.Chunk.ToArray()).Set("@node", item.Node).ExecuteNonQuery();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PostponeReplicaAsync(ChunkId chunk, string node, int attempts, DateTimeOffset nextAttemptOn, string? lastError, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        return WriteAsync(
            (Chunk: chunk, Node: node, Attempts: attempts, Next: Ticks(nextAttemptOn), Error: lastError),
            static (session, item) =>
            {
                session.Command(PostponeReplicaSql)
                    .Set("@id", item.Chunk.ToArray())
                    .Set("@node", item.Node)
                    .Set("@attempts", (long)item.Attempts)
                    .Set("@next", item.Next)
                    .Set("@error", item.Error)
                    .ExecuteNonQuery();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ReplicationQueueStatus> GetReplicationQueueStatusAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            0,
            static (session, _) =>
            {
                using var reader = session.Command(QueueStatusSql).ExecuteReader();
                reader.Read();
                return new ReplicationQueueStatus(reader.GetInt64(0), reader.IsDBNull(1) ? null : Time(reader.GetInt64(1)));
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    public ValueTask RecordVerificationsAsync(IReadOnlyCollection<ChunkVerification> verifications, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verifications);
        if (verifications.Count == 0) return ValueTask.CompletedTask;
        return WriteAsync(
            verifications,
            static (session, verifications) =>
            {
                var command = session.Command(RecordVerificationSql);
                foreach (var v in verifications)
                {
                    command.Set("@id", v.Chunk.ToArray()).Set("@node", v.Node).Set("@verified", Ticks(v.VerifiedOn)).ExecuteNonQuery();
                }
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChunkVerification>> GetVerificationsAsync(IReadOnlyCollection<ChunkId> chunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        return ReadAsync(
            chunks,
            static (session, chunks) =>
            {
                var rows = new List<ChunkVerification>();
                var command = session.Command(VerificationsSql);
                foreach (var id in chunks)
                {
                    using var reader = command.Set("@id", id.ToArray()).ExecuteReader();
                    while (reader.Read()) rows.Add(new ChunkVerification(ReadChunkId(reader, 0, session), reader.GetString(1), Time(reader.GetInt64(2))));
                }

                return (IReadOnlyList<ChunkVerification>)rows;
            },
            snapshot: true,
            cancellationToken);
    }

    /// <summary>Drops a chunk's queued copies and verification times, inside the caller's transaction (the chunk's row is being removed).</summary>
    private static void ForgetReplicas(SqliteSession session, byte[] id)
    {
        session.Command(ForgetReplicasSql).Set("@id", id).ExecuteNonQuery();
        session.Command(ForgetVerificationsSql).Set("@id", id).ExecuteNonQuery();
    }

    private static ReplicaWork ReadReplica(Microsoft.Data.Sqlite.SqliteDataReader reader, SqliteSession session) =>
        new(
            ReadChunkId(reader, 0, session),
            reader.GetString(1),
            reader.GetInt32(2),
            Time(reader.GetInt64(3)),
            reader.GetInt32(4),
            Time(reader.GetInt64(5)),
            reader.IsDBNull(6) ? null : reader.GetString(6));
}
