using BlobStorage.Abstractions;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const string ContainerColumns = "name, storage_class, replication, access_policy, created";

    /// <inheritdoc />
    public ValueTask CreateContainerAsync(ContainerProperties container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return new ValueTask(WriteAsync(
            (session, tx) =>
            {
                var exists = session.Command("SELECT 1 FROM containers WHERE name = @name;", tx);
                if (With(exists, "@name", container.Name).ExecuteScalar() is not null)
                {
                    throw new ContainerAlreadyExistsException(container.Name);
                }

                var insert = session.Command($"INSERT INTO containers ({ContainerColumns}) VALUES (@name, @class, @replication, @access, @created);", tx);
                With(insert, "@name", container.Name);
                With(insert, "@class", (int)container.DefaultStorageClass);
                With(insert, "@replication", (int)container.ReplicationStrategy);
                With(insert, "@access", (int)container.AccessPolicy);
                With(insert, "@created", Ticks(container.CreatedOn));
                insert.ExecuteNonQuery();
                return true;
            },
            cancellationToken).AsTask());
    }

    /// <inheritdoc />
    public ValueTask<ContainerProperties?> GetContainerAsync(string name, CancellationToken cancellationToken = default) =>
        ReadAsync(
            session =>
            {
                using var reader = With(session.Command($"SELECT {ContainerColumns} FROM containers WHERE name = @name;"), "@name", name).ExecuteReader();
                return reader.Read() ? ReadContainer(reader) : null;
            },
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ContainerProperties>> ListContainersAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<ContainerProperties>>(
            session =>
            {
                var containers = new List<ContainerProperties>();
                using var reader = session.Command($"SELECT {ContainerColumns} FROM containers ORDER BY name;").ExecuteReader();
                while (reader.Read()) containers.Add(ReadContainer(reader));
                return containers;
            },
            cancellationToken);

    /// <inheritdoc />
    public ValueTask DeleteContainerAsync(string name, bool deleteContents, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        new(WriteAsync(
            (session, tx) =>
            {
                var (containerId, blobCount) = ContainerIdAndCount(session, tx, name) ?? throw new ContainerNotFoundException(name);
                if (blobCount > 0 && !deleteContents) throw new ContainerNotEmptyException(name, blobCount);
                var counts = new StatsDelta();
                if (blobCount > 0)
                {
                    var released = new Dictionary<ChunkId, (long Count, int Length)>();
                    var inline = new List<long>();
                    using (var reader = With(session.Command("SELECT chunks, inline_id FROM blobs WHERE container_id = @id;", tx), "@id", containerId).ExecuteReader())
                    {
                        while (reader.Read())
                        {
                            Tally(released, ChunkListCodec.Decode((byte[])reader[0]));
                            if (!reader.IsDBNull(1)) inline.Add(reader.GetInt64(1));
                        }
                    }

                    Release(session, tx, released, now, counts);
                    foreach (var inlineId in inline) ReleaseInline(session, tx, inlineId, counts);
                    With(session.Command("DELETE FROM blobs WHERE container_id = @id;", tx), "@id", containerId).ExecuteNonQuery();
                    counts.Deletes += blobCount;
                }

                var uploads = new List<string>();
                using (var reader = With(session.Command("SELECT id FROM uploads WHERE container_id = @id;", tx), "@id", containerId).ExecuteReader())
                {
                    while (reader.Read()) uploads.Add(reader.GetString(0));
                }

                foreach (var upload in uploads) DropUpload(session, tx, upload, now, counts);
                With(session.Command("DELETE FROM containers WHERE id = @id;", tx), "@id", containerId).ExecuteNonQuery();
                ApplyStats(session, tx, counts);
                return true;
            },
            cancellationToken).AsTask());

    private static ContainerProperties ReadContainer(SqliteDataReader reader) => new()
    {
        Name = reader.GetString(0),
        DefaultStorageClass = (StorageClass)reader.GetInt32(1),
        ReplicationStrategy = (ReplicationStrategy)reader.GetInt32(2),
        AccessPolicy = (AccessPolicy)reader.GetInt32(3),
        CreatedOn = Time(reader.GetInt64(4)),
    };

    private static (long Id, long BlobCount)? ContainerIdAndCount(SqliteSession session, SqliteTransaction? tx, string name)
    {
        using var reader = With(session.Command("SELECT id, blob_count FROM containers WHERE name = @name;", tx), "@name", name).ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    private static long ContainerId(SqliteSession session, SqliteTransaction? tx, string name) =>
        ContainerIdAndCount(session, tx, name)?.Id ?? throw new ContainerNotFoundException(name);

    private static void AdjustContainer(SqliteSession session, SqliteTransaction tx, long containerId, long blobs, long bytes)
    {
        if (blobs == 0 && bytes == 0) return;
        var update = session.Command("UPDATE containers SET blob_count = blob_count + @blobs, total_bytes = total_bytes + @bytes WHERE id = @id;", tx);
        With(update, "@blobs", blobs);
        With(update, "@bytes", bytes);
        With(update, "@id", containerId);
        update.ExecuteNonQuery();
    }
}
