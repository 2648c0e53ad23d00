using BlobStorage.Abstractions;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const int SqliteConstraintUnique = 2067;
    private const string ContainerColumns = "name, storage_class, replication, access_policy, created";

    private const string InsertContainerSql =
        "INSERT INTO containers (name, storage_class, replication, access_policy, created) VALUES (@name, @class, @replication, @access, @created);";

    private const string SelectContainerSql = $"SELECT {ContainerColumns} FROM containers WHERE name = @name;";
    private const string ListContainersSql = $"SELECT {ContainerColumns} FROM containers ORDER BY name;";
    private const string ContainerIdSql = "SELECT id, blob_count FROM containers WHERE name = @name;";
    private const string AdjustContainerSql = "UPDATE containers SET blob_count = blob_count + @blobs, total_bytes = total_bytes + @bytes WHERE id = @id;";
    private const string ContainerChunkListsSql = "SELECT chunks, inline_id FROM blobs WHERE container_id = @id;";
    private const string DeleteContainerBlobsSql = "DELETE FROM blobs WHERE container_id = @id;";
    private const string ContainerUploadsSql = "SELECT id FROM uploads WHERE container_id = @id;";
    private const string DeleteContainerSql = "DELETE FROM containers WHERE id = @id;";

    /// <inheritdoc />
    public ValueTask CreateContainerAsync(ContainerProperties container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return WriteAsync(
            container,
            static (session, container) =>
            {
                var insert = session.Command(InsertContainerSql)
                    .Set("@name", container.Name)
                    .Set("@class", (int)container.DefaultStorageClass)
                    .Set("@replication", (int)container.ReplicationStrategy)
                    .Set("@access", (int)container.AccessPolicy)
                    .Set("@created", Ticks(container.CreatedOn));
                try
                {
                    insert.ExecuteNonQuery();
                }
                catch (SqliteException ex) when (ex.SqliteExtendedErrorCode == SqliteConstraintUnique)
                {
                    throw new ContainerAlreadyExistsException(container.Name);
                }
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ContainerProperties?> GetContainerAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync(
            name,
            static (session, name) =>
            {
                using var reader = session.Command(SelectContainerSql).Set("@name", name).ExecuteReader();
                return reader.Read() ? ReadContainer(reader) : null;
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ContainerProperties>> ListContainersAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<bool, IReadOnlyList<ContainerProperties>>(
            false,
            static (session, _) =>
            {
                var containers = new List<ContainerProperties>();
                using var reader = session.Command(ListContainersSql).ExecuteReader();
                while (reader.Read()) containers.Add(ReadContainer(reader));
                return containers;
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    public ValueTask DeleteContainerAsync(string name, bool deleteContents, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync(
            (Name: name, DeleteContents: deleteContents, Now: now),
            static (session, request) =>
            {
                var (containerId, blobCount) = FindContainer(session, request.Name) ?? throw new ContainerNotFoundException(request.Name);
                if (blobCount > 0 && !request.DeleteContents) throw new ContainerNotEmptyException(request.Name, blobCount);
                var delta = new StatsDelta();
                if (blobCount > 0)
                {
                    var released = new List<ChunkReference>();
                    var inline = new List<long>();
                    using (var reader = session.Command(ContainerChunkListsSql).Set("@id", containerId).ExecuteReader())
                    {
                        while (reader.Read())
                        {
                            released.AddRange(ChunkListCodec.Read(reader, 0));
                            if (!reader.IsDBNull(1)) inline.Add(reader.GetInt64(1));
                        }
                    }

                    Release(session, released, request.Now, ref delta);
                    foreach (var inlineId in inline) ReleaseInline(session, inlineId, ref delta);
                    session.Command(DeleteContainerBlobsSql).Set("@id", containerId).ExecuteNonQuery();
                    delta.Deletes += blobCount;
                }

                // An upload into a container that is gone could never complete; its parts are released with it.
                var uploads = new List<string>();
                using (var reader = session.Command(ContainerUploadsSql).Set("@id", containerId).ExecuteReader())
                {
                    while (reader.Read()) uploads.Add(reader.GetString(0));
                }

                foreach (var upload in uploads) DropUpload(session, upload, request.Now, ref delta);
                DeleteCdnConfiguration(session, containerId);
                DeleteLifecycleRules(session, containerId);
                session.Command(DeleteContainerSql).Set("@id", containerId).ExecuteNonQuery();
                ApplyStats(session, delta);
            },
            cancellationToken);
    }

    private static ContainerProperties ReadContainer(SqliteDataReader reader) => new()
    {
        Name = reader.GetString(0),
        DefaultStorageClass = (StorageClass)reader.GetInt32(1),
        ReplicationStrategy = (ReplicationStrategy)reader.GetInt32(2),
        AccessPolicy = (AccessPolicy)reader.GetInt32(3),
        CreatedOn = Time(reader.GetInt64(4)),
    };

    private static (long Id, long BlobCount)? FindContainer(SqliteSession session, string name) =>
        session.Statement(ContainerIdSql).Set("@name", name).TryExecute(out var id, out var blobCount) ? (id, blobCount) : null;

    private static long ContainerId(SqliteSession session, string name) =>
        FindContainer(session, name)?.Id ?? throw new ContainerNotFoundException(name);

    private static void AdjustContainer(SqliteSession session, long containerId, long blobs, long bytes)
    {
        if (blobs == 0 && bytes == 0) return;
        session.Statement(AdjustContainerSql).Set("@blobs", blobs).Set("@bytes", bytes).Set("@id", containerId).Execute();
    }
}
