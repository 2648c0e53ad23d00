using BlobStorage.Abstractions;
using BlobStorage.PostgreSql.Internal;
using Npgsql;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore
{
    private const string ReplicaColumns = "chunk_id, node, length, enqueued, attempts, next_attempt, last_error";

    /// <inheritdoc />
    public ValueTask EnqueueReplicasAsync(IReadOnlyCollection<ReplicaWork> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (work.Count == 0) return ValueTask.CompletedTask;
        return WriteAsync(
            work,
            static async (tx, work, ct) =>
            {
                foreach (var item in work)
                {
                    using var command = tx.Command(
                        "INSERT INTO {S}.replication_queue (chunk_id, node, length, enqueued, attempts, next_attempt, last_error) VALUES (@id, @node, @length, @enqueued, @attempts, @next, @error) ON CONFLICT (chunk_id, node) DO NOTHING;")
                        .Bytes("@id", item.Chunk.ToArray())
                        .Text("@node", item.Node)
                        .Int("@length", item.Length)
                        .Long("@enqueued", Ticks(item.EnqueuedOn))
                        .Int("@attempts", item.Attempts)
                        .Long("@next", Ticks(item.NextAttemptOn))
                        .Text("@error", item.LastError);
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ReplicaWork>> GetDueReplicasAsync(DateTimeOffset dueBy, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync<(long Due, int Limit), IReadOnlyList<ReplicaWork>>(
            (Ticks(dueBy), limit),
            static async (tx, query, ct) =>
            {
                var rows = new List<ReplicaWork>();
                using var command = tx.Command($"SELECT {ReplicaColumns} FROM {{S}}.replication_queue WHERE next_attempt <= @due ORDER BY next_attempt LIMIT @limit;")
                    .Long("@due", query.Due)
                    .Int("@limit", query.Limit);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(ReadReplica(reader));
                return rows;
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ReplicaWork>> GetQueuedReplicasAsync(IReadOnlyCollection<ChunkId> chunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        return ReadAsync<IReadOnlyCollection<ChunkId>, IReadOnlyList<ReplicaWork>>(
            chunks,
            static async (tx, chunks, ct) =>
            {
                var rows = new List<ReplicaWork>();
                foreach (var id in chunks)
                {
                    using var command = tx.Command($"SELECT {ReplicaColumns} FROM {{S}}.replication_queue WHERE chunk_id = @id ORDER BY node;").Bytes("@id", id.ToArray());
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(ReadReplica(reader));
                }

                return rows;
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
            static async (tx, item, ct) =>
            {
                using var command = tx.Command("DELETE FROM {S}.replication_queue WHERE chunk_id = @id AND node = @node;").Bytes("@id", item.Chunk.ToArray()).Text("@node", item.Node);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PostponeReplicaAsync(ChunkId chunk, string node, int attempts, DateTimeOffset nextAttemptOn, string? lastError, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        return WriteAsync(
            (Chunk: chunk, Node: node, Attempts: attempts, Next: Ticks(nextAttemptOn), Error: lastError),
            static async (tx, item, ct) =>
            {
                using var command = tx.Command("UPDATE {S}.replication_queue SET attempts = @attempts, next_attempt = @next, last_error = @error WHERE chunk_id = @id AND node = @node;")
                    .Bytes("@id", item.Chunk.ToArray())
                    .Text("@node", item.Node)
                    .Int("@attempts", item.Attempts)
                    .Long("@next", item.Next)
                    .Text("@error", item.Error);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ReplicationQueueStatus> GetReplicationQueueStatusAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            0,
            static async (tx, _, ct) =>
            {
                using var command = tx.Command("SELECT COUNT(*), MIN(enqueued) FROM {S}.replication_queue;");
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                await reader.ReadAsync(ct).ConfigureAwait(false);
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
            static async (tx, verifications, ct) =>
            {
                foreach (var v in verifications)
                {
                    using var command = tx.Command(
                        "INSERT INTO {S}.chunk_verifications (chunk_id, node, verified) VALUES (@id, @node, @verified) ON CONFLICT (chunk_id, node) DO UPDATE SET verified = excluded.verified;")
                        .Bytes("@id", v.Chunk.ToArray())
                        .Text("@node", v.Node)
                        .Long("@verified", Ticks(v.VerifiedOn));
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChunkVerification>> GetVerificationsAsync(IReadOnlyCollection<ChunkId> chunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        return ReadAsync<IReadOnlyCollection<ChunkId>, IReadOnlyList<ChunkVerification>>(
            chunks,
            static async (tx, chunks, ct) =>
            {
                var rows = new List<ChunkVerification>();
                foreach (var id in chunks)
                {
                    using var command = tx.Command("SELECT chunk_id, node, verified FROM {S}.chunk_verifications WHERE chunk_id = @id ORDER BY node;").Bytes("@id", id.ToArray());
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(new ChunkVerification(ReadChunkId(reader, 0), reader.GetString(1), Time(reader.GetInt64(2))));
                }

                return rows;
            },
            snapshot: true,
            cancellationToken);
    }

    private static ReplicaWork ReadReplica(NpgsqlDataReader reader) =>
        new(
            ReadChunkId(reader, 0),
            reader.GetString(1),
            reader.GetInt32(2),
            Time(reader.GetInt64(3)),
            reader.GetInt32(4),
            Time(reader.GetInt64(5)),
            reader.NullableString(6));

    /// <inheritdoc />
    public ValueTask<BlobRecord> SetBlobStorageClassAsync(string container, string name, StorageClass storageClass, StorageClass? rehydratingTo, BlobRequestConditions? conditions, string? expectedVersionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync(
            (Container: container, Name: name, Class: storageClass, RehydratingTo: rehydratingTo, Conditions: conditions, Version: expectedVersionId),
            static async (tx, request, ct) =>
            {
                var containerId = await ContainerIdAsync(tx, request.Container, ct).ConfigureAwait(false);
                var name = Utf8(request.Name);
                var current = await ReadBlobAsync(tx, containerId, request.Container, name, ct).ConfigureAwait(false)
                    ?? throw new BlobNotFoundException(request.Container, request.Name);
                var p = current.Record.Properties;
                request.Conditions?.Check(request.Container, request.Name, p.ETag, p.LastModified);
                if (request.Version is { } version && version != p.VersionId)
                {
                    throw new PreconditionFailedException($"Blob '{request.Name}' in container '{request.Container}' is now version {p.VersionId}, not {version}: it was overwritten meanwhile.");
                }

                using (var command = tx.Command("UPDATE {S}.blobs SET storage_class = @class, rehydrating_to = @rehydrating WHERE container_id = @container AND name = @name;")
                    .Int("@class", (int)request.Class)
                    .Int("@rehydrating", request.RehydratingTo is { } target ? (int)target : null)
                    .Long("@container", containerId)
                    .Bytes("@name", name))
                {
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                return current.Record with { Properties = p with { StorageClass = request.Class, RehydratingTo = request.RehydratingTo } };
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<BlobProperties>> GetPendingRehydrationsAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync<int, IReadOnlyList<BlobProperties>>(
            limit,
            static async (tx, limit, ct) =>
            {
                var blobs = new List<BlobProperties>();
                using var command = tx.Command(
                    $$"""
                    SELECT c.name, {{PropertyColumns}} FROM {S}.blobs b JOIN {S}.containers c ON c.id = b.container_id
                    WHERE b.rehydrating_to IS NOT NULL ORDER BY b.container_id, b.name LIMIT @limit;
                    """)
                    .Int("@limit", limit);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) blobs.Add(ReadProperties(reader, 1, reader.GetString(0)));
                return blobs;
            },
            snapshot: false,
            cancellationToken);
    }
}
