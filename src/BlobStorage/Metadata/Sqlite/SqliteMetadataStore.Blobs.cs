using System.Runtime.CompilerServices;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const string BlobColumns =
        "name, version_id, size, content_type, etag, content_hash, storage_class, created, modified, access_count, last_accessed, tags, metadata, chunks, part_count";

    // A single blob's read also takes its inline content and checksum (columns 15 and 16).
    private const string BlobWithContent =
        "SELECT blobs.name, version_id, size, content_type, etag, content_hash, storage_class, created, modified, access_count, last_accessed, tags, metadata, chunks, part_count, " +
        "ic.checksum, ic.data FROM blobs LEFT JOIN inline_content ic ON ic.id = blobs.inline_id";

    /// <inheritdoc />
    public ValueTask<BlobRecord?> GetBlobAsync(string container, string name, CancellationToken cancellationToken = default) =>
        ReadAsync(session => FindBlob(session, null, container, name), cancellationToken);

    /// <inheritdoc />
    public ValueTask<BlobRecord> CommitBlobAsync(BlobRecord blob, BlobRequestConditions? conditions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return WriteAsync(
            (session, tx) =>
            {
                var p = blob.Properties;
                var containerId = ContainerId(session, tx, p.Container);
                var current = ReadBlob(session, tx, containerId, p.Container, NameBytes(p.Name));
                conditions?.Check(p.Container, p.Name, current?.Properties.ETag, current?.Properties.LastModified);
                var delta = new StatsDelta { Writes = 1, BytesWritten = p.Size };
                AddReferences(session, tx, blob.Chunks, delta);
                var inlineId = blob.InlineContent is { } inline ? AddInline(session, tx, inline, delta) : (long?)null;
                if (current is not null) ReleaseVersion(session, tx, containerId, current, p.LastModified, delta);
                var stored = new BlobRecord(CopyOf(p, createdOn: current?.Properties.CreatedOn ?? p.CreatedOn), blob.Chunks) { InlineContent = blob.InlineContent };
                Upsert(session, tx, containerId, stored, inlineId);
                AdjustContainer(session, tx, containerId, current is null ? 1 : 0, p.Size - (current?.Properties.Size ?? 0));
                ApplyStats(session, tx, delta);
                return stored;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> CopyBlobAsync(BlobCopyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WriteAsync(
            (session, tx) =>
            {
                var options = request.Options;
                var sourceContainerId = ContainerId(session, tx, request.SourceContainer);
                var source = ReadBlob(session, tx, sourceContainerId, request.SourceContainer, NameBytes(request.SourceName))
                    ?? throw new BlobNotFoundException(request.SourceContainer, request.SourceName);
                options.SourceConditions?.Check(request.SourceContainer, request.SourceName, source.Properties.ETag, source.Properties.LastModified);
                var destinationContainerId = ContainerId(session, tx, request.DestinationContainer);
                var current = ReadBlob(session, tx, destinationContainerId, request.DestinationContainer, NameBytes(request.DestinationName));
                options.DestinationConditions?.Check(request.DestinationContainer, request.DestinationName, current?.Properties.ETag, current?.Properties.LastModified);

                var s = source.Properties;
                var copy = new BlobRecord(
                    new BlobProperties
                    {
                        Container = request.DestinationContainer,
                        Name = request.DestinationName,
                        VersionId = request.VersionId,
                        Size = s.Size,
                        ContentType = options.ContentType ?? s.ContentType,
                        ETag = request.ETag,
                        ContentHash = s.ContentHash,
                        StorageClass = options.StorageClass ?? s.StorageClass,
                        CreatedOn = current?.Properties.CreatedOn ?? request.Now,
                        LastModified = request.Now,
                        Tags = options.Tags is null ? s.Tags : MetadataRules.ValidateTags(options.Tags, "options.Tags"),
                        Metadata = options.Metadata is null ? s.Metadata : MetadataRules.ValidateMetadata(options.Metadata, "options.Metadata"),
                        PartCount = s.PartCount,
                    },
                    source.Chunks);
                var delta = new StatsDelta { Writes = 1, BytesWritten = s.Size };
                AddReferences(session, tx, source.Chunks, delta);

                // Inline content is shared like chunks: the copy counts a reference to the same row.
                var inlineId = InlineIdOf(session, tx, sourceContainerId, NameBytes(request.SourceName));
                if (inlineId is { } shared) With(session.Command("UPDATE inline_content SET refcount = refcount + 1 WHERE id = @id;", tx), "@id", shared).ExecuteNonQuery();
                if (current is not null) ReleaseVersion(session, tx, destinationContainerId, current, request.Now, delta);
                Upsert(session, tx, destinationContainerId, copy, inlineId);
                AdjustContainer(session, tx, destinationContainerId, current is null ? 1 : 0, s.Size - (current?.Properties.Size ?? 0));
                ApplyStats(session, tx, delta);
                return copy;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> DeleteBlobAsync(string container, string name, BlobRequestConditions? conditions, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        WriteAsync(
            (session, tx) =>
            {
                var containerId = ContainerId(session, tx, container);
                var nameBytes = NameBytes(name);
                var current = ReadBlob(session, tx, containerId, container, nameBytes) ?? throw new BlobNotFoundException(container, name);
                conditions?.Check(container, name, current.Properties.ETag, current.Properties.LastModified);
                var delta = new StatsDelta { Deletes = 1 };
                ReleaseVersion(session, tx, containerId, current, now, delta);
                var delete = session.Command("DELETE FROM blobs WHERE container_id = @container AND name = @name;", tx);
                With(delete, "@container", containerId);
                With(delete, "@name", nameBytes);
                delete.ExecuteNonQuery();
                AdjustContainer(session, tx, containerId, -1, -current.Properties.Size);
                ApplyStats(session, tx, delta);
                return current;
            },
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<BlobRecord> UpdateBlobMetadataAsync(string container, string name, BlobMetadataUpdate update, string newETag, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        return WriteAsync(
            (session, tx) =>
            {
                var containerId = ContainerId(session, tx, container);
                var nameBytes = NameBytes(name);
                var current = ReadBlob(session, tx, containerId, container, nameBytes) ?? throw new BlobNotFoundException(container, name);
                var p = current.Properties;
                update.Conditions?.Check(container, name, p.ETag, p.LastModified);
                var tags = MetadataRules.Apply(p.Tags, update.Tags, update.Mode, tags: true);
                var metadata = MetadataRules.Apply(p.Metadata, update.Metadata, update.Mode, tags: false);
                var command = session.Command("UPDATE blobs SET tags = @tags, metadata = @metadata, etag = @etag, modified = @modified WHERE container_id = @container AND name = @name;", tx);
                With(command, "@tags", ToJson(tags));
                With(command, "@metadata", ToJson(metadata));
                With(command, "@etag", newETag);
                With(command, "@modified", Ticks(now));
                With(command, "@container", containerId);
                With(command, "@name", nameBytes);
                command.ExecuteNonQuery();
                return current with { Properties = CopyOf(p, createdOn: p.CreatedOn, etag: newETag, modified: now, tags: tags, metadata: metadata) };
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accesses);
        if (accesses.Count == 0) return ValueTask.CompletedTask;
        return new ValueTask(WriteAsync(
            (session, tx) =>
            {
                var delta = new StatsDelta();
                foreach (var access in accesses)
                {
                    var command = session.Command(
                        """
                        UPDATE blobs SET access_count = access_count + @count, last_accessed = MAX(COALESCE(last_accessed, 0), @at)
                        WHERE container_id = (SELECT id FROM containers WHERE name = @container) AND name = @name AND version_id = @version;
                        """,
                        tx);
                    With(command, "@count", access.Count);
                    With(command, "@at", Ticks(access.LastAccessedOn));
                    With(command, "@container", access.Container);
                    With(command, "@name", NameBytes(access.Name));
                    With(command, "@version", access.VersionId);
                    command.ExecuteNonQuery();
                    delta.Reads += access.Count;
                    delta.BytesRead += access.Bytes;
                }

                ApplyStats(session, tx, delta);
                return true;
            },
            cancellationToken).AsTask());
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobRecord> EnumerateBlobsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var containers = Read(session =>
        {
            var map = new List<(long Id, string Name)>();
            using var reader = session.Command("SELECT id, name FROM containers ORDER BY id;").ExecuteReader();
            while (reader.Read()) map.Add((reader.GetInt64(0), reader.GetString(1)));
            return map;
        });
        foreach (var (containerId, containerName) in containers)
        {
            byte[] after = [];
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var page = Read(session =>
                {
                    var command = session.Command($"SELECT {BlobColumns} FROM blobs WHERE container_id = @container AND name > @after ORDER BY name LIMIT @limit;");
                    With(command, "@container", containerId);
                    With(command, "@after", after);
                    With(command, "@limit", EnumerationPage);
                    var rows = new List<(byte[] Name, BlobRecord Record)>();
                    using var reader = command.ExecuteReader();
                    while (reader.Read()) rows.Add(((byte[])reader[0], ReadBlobRow(reader, containerName)));
                    return rows;
                });
                foreach (var (_, record) in page) yield return record;
                if (page.Count < EnumerationPage) break;
                after = page[^1].Name;
                await Task.Yield();
            }
        }
    }

    private static BlobRecord? FindBlob(SqliteSession session, SqliteTransaction? tx, string container, string name)
    {
        var command = session.Command(
            $"{BlobWithContent} WHERE blobs.container_id = (SELECT id FROM containers WHERE name = @container) AND blobs.name = @name;", tx);
        With(command, "@container", container);
        With(command, "@name", NameBytes(name));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadBlobRowWithContent(reader, container, verify: true) : null;
    }

    /// <summary>Reads a blob inside a write transaction, without its inline content: a damaged blob can still be overwritten or deleted.</summary>
    private static BlobRecord? ReadBlob(SqliteSession session, SqliteTransaction tx, long containerId, string container, byte[] name)
    {
        var command = session.Command($"SELECT {BlobColumns} FROM blobs WHERE container_id = @container AND name = @name;", tx);
        With(command, "@container", containerId);
        With(command, "@name", name);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadBlobRow(reader, container) : null;
    }

    private static long? InlineIdOf(SqliteSession session, SqliteTransaction tx, long containerId, byte[] name)
    {
        var command = session.Command("SELECT inline_id FROM blobs WHERE container_id = @container AND name = @name;", tx);
        With(command, "@container", containerId);
        With(command, "@name", name);
        return command.ExecuteScalar() as long?;
    }

    private static long AddInline(SqliteSession session, SqliteTransaction tx, byte[] content, StatsDelta delta)
    {
        var insert = session.Command("INSERT INTO inline_content (refcount, checksum, data) VALUES (1, @checksum, @data) RETURNING id;", tx);
        With(insert, "@checksum", (long)System.IO.Hashing.XxHash3.HashToUInt64(content));
        With(insert, "@data", content);
        delta.StoredBytes += content.Length;
        return (long)insert.ExecuteScalar()!;
    }

    /// <summary>Releases what the current version of a name holds: its chunks and its share of inline content.</summary>
    private static void ReleaseVersion(SqliteSession session, SqliteTransaction tx, long containerId, BlobRecord current, DateTimeOffset now, StatsDelta delta)
    {
        Release(session, tx, current.Chunks, now, delta);
        if (InlineIdOf(session, tx, containerId, NameBytes(current.Properties.Name)) is { } inlineId) ReleaseInline(session, tx, inlineId, delta);
    }

    /// <summary>Drops one reference to inline content; the last one deletes it (a reader holds the bytes it read, not the row).</summary>
    private static void ReleaseInline(SqliteSession session, SqliteTransaction tx, long inlineId, StatsDelta delta)
    {
        var update = session.Command("UPDATE inline_content SET refcount = refcount - 1 WHERE id = @id RETURNING refcount, length(data);", tx);
        With(update, "@id", inlineId);
        long remaining, length;
        using (var reader = update.ExecuteReader())
        {
            if (!reader.Read()) return;
            remaining = reader.GetInt64(0);
            length = reader.GetInt64(1);
        }

        if (remaining > 0) return;
        With(session.Command("DELETE FROM inline_content WHERE id = @id;", tx), "@id", inlineId).ExecuteNonQuery();
        delta.StoredBytes -= length;
    }

    private static bool InlineIntact(SqliteDataReader reader, byte[] content) =>
        !reader.IsDBNull(15) && (ulong)reader.GetInt64(15) == System.IO.Hashing.XxHash3.HashToUInt64(content);

    private static BlobRecord ReadBlobRowWithContent(SqliteDataReader reader, string container, bool verify)
    {
        var record = ReadBlobRow(reader, container);
        if (reader.IsDBNull(16)) return record;
        var content = (byte[])reader[16];
        if (verify && !InlineIntact(reader, content))
        {
            throw new DataCorruptionException($"The content of blob '{record.Properties.Name}' in container '{container}', kept in the metadata database, fails its checksum.");
        }

        return record with { InlineContent = content };
    }

    private static BlobRecord ReadBlobRow(SqliteDataReader reader, string container) => new(
        new BlobProperties
        {
            Container = container,
            Name = Encoding.UTF8.GetString((byte[])reader[0]),
            VersionId = reader.GetString(1),
            Size = reader.GetInt64(2),
            ContentType = reader.GetString(3),
            ETag = reader.GetString(4),
            ContentHash = reader.GetString(5),
            StorageClass = (StorageClass)reader.GetInt32(6),
            CreatedOn = Time(reader.GetInt64(7)),
            LastModified = Time(reader.GetInt64(8)),
            AccessCount = reader.GetInt64(9),
            LastAccessedOn = reader.IsDBNull(10) ? null : Time(reader.GetInt64(10)),
            Tags = FromJson(reader, 11),
            Metadata = FromJson(reader, 12),
            PartCount = reader.GetInt32(14),
        },
        ChunkListCodec.Decode((byte[])reader[13]));

    private static void Upsert(SqliteSession session, SqliteTransaction tx, long containerId, BlobRecord record, long? inlineId)
    {
        var p = record.Properties;
        var command = session.Command(
            $"""
            INSERT OR REPLACE INTO blobs (container_id, {BlobColumns}, inline_id)
            VALUES (@container, @name, @version, @size, @type, @etag, @hash, @class, @created, @modified, @access_count, @last_accessed, @tags, @metadata, @chunks, @part_count, @inline_id);
            """,
            tx);
        With(command, "@container", containerId);
        With(command, "@name", NameBytes(p.Name));
        With(command, "@version", p.VersionId);
        With(command, "@size", p.Size);
        With(command, "@type", p.ContentType);
        With(command, "@etag", p.ETag);
        With(command, "@hash", p.ContentHash);
        With(command, "@class", (int)p.StorageClass);
        With(command, "@created", Ticks(p.CreatedOn));
        With(command, "@modified", Ticks(p.LastModified));
        With(command, "@access_count", p.AccessCount);
        With(command, "@last_accessed", p.LastAccessedOn is { } last ? Ticks(last) : null);
        With(command, "@tags", ToJson(p.Tags));
        With(command, "@metadata", ToJson(p.Metadata));
        With(command, "@chunks", ChunkListCodec.Encode(record.Chunks));
        With(command, "@part_count", p.PartCount);
        With(command, "@inline_id", inlineId);
        command.ExecuteNonQuery();
    }

    private static BlobProperties CopyOf(
        BlobProperties p,
        DateTimeOffset createdOn,
        string? etag = null,
        DateTimeOffset? modified = null,
        IReadOnlyDictionary<string, string>? tags = null,
        IReadOnlyDictionary<string, string>? metadata = null) => p with
        {
            ETag = etag ?? p.ETag,
            CreatedOn = createdOn,
            LastModified = modified ?? p.LastModified,
            Tags = tags ?? p.Tags,
            Metadata = metadata ?? p.Metadata,
        };
}
