using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Internal;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.PostgreSql.Internal;
using Npgsql;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore : IAccessCommitSignal
{
    // The columns a BlobProperties is read from, in this order, then the chunk list.
    private const string PropertyColumns =
        "b.name, b.version_id, b.size, b.content_type, b.etag, b.content_hash, b.storage_class, b.rehydrating_to, b.created, b.modified, b.access_count, b.last_accessed, b.part_count, b.tags, b.metadata";

    private const int PropertyCount = 15;

    /// <inheritdoc />
    public ValueTask<BlobRecord?> GetBlobAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync(
            (Container: container, Name: name),
            static async (tx, key, ct) =>
            {
                using var command = tx.Command(
                    $$"""
                    SELECT {{PropertyColumns}}, b.chunks, b.inline_id, ic.checksum, ic.data
                    FROM {S}.blobs b LEFT JOIN {S}.inline_content ic ON ic.id = b.inline_id
                    WHERE b.container_id = (SELECT c.id FROM {S}.containers c WHERE c.name = @container) AND b.name = @name;
                    """)
                    .Text("@container", key.Container)
                    .Bytes("@name", Utf8(key.Name));
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
                var properties = ReadProperties(reader, 0, key.Container);
                var chunks = ChunkListCodec.DecodeLazily(reader.Bytes(PropertyCount));
                var inline = ReadInline(reader, PropertyCount + 1, key.Container, key.Name);
                return new BlobRecord(properties, chunks) { InlineContent = inline is null ? null : (ReadOnlyMemory<byte>?)inline };
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> CommitBlobAsync(BlobRecord blob, BlobRequestConditions? conditions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(blob.Properties);
        ArgumentNullException.ThrowIfNull(blob.Chunks);
        return WriteAsync((Blob: blob, Conditions: conditions, Epoch: (long?)null), static (tx, request, ct) => CommitAsync(tx, request.Blob, request.Conditions, request.Epoch, ct), cancellationToken);
    }

    /// <summary>Commits a blob; with <paramref name="collectionEpoch"/>, refuses chunks removed since (see <see cref="CheckRemovalsAsync"/>).</summary>
    private static async Task<BlobRecord> CommitAsync(PgTx tx, BlobRecord blob, BlobRequestConditions? conditions, long? collectionEpoch, CancellationToken ct)
    {
        var request = (Blob: blob, Conditions: conditions);
        {
            {
                var p = request.Blob.Properties;
                var containerId = await ContainerIdAsync(tx, p.Container, ct).ConfigureAwait(false);
                var name = Utf8(p.Name);
                var current = await ReadBlobAsync(tx, containerId, p.Container, name, ct).ConfigureAwait(false);

                // Under the writers' lock (see the type's remarks): no other commit can change the name between this check and the commit.
                request.Conditions?.Check(p.Container, p.Name, current?.Properties.ETag, current?.Properties.LastModified);

                // New references first: a chunk both versions share never touches zero on the way.
                var delta = new StatsDelta { Writes = 1, BytesWritten = p.Size };
                await ReferenceAsync(tx, request.Blob.Chunks, delta, ct).ConfigureAwait(false);
                if (collectionEpoch is { } epoch) await CheckRemovalsAsync(tx, request.Blob.Chunks, epoch, delta.ChunkCount > 0, ct).ConfigureAwait(false);
                var inlineId = request.Blob.InlineContent is { } inline ? await AddInlineAsync(tx, inline, delta, ct).ConfigureAwait(false) : (long?)null;
                if (current is { } old) await ReleaseVersionAsync(tx, old, p.LastModified, delta, ct).ConfigureAwait(false);

                var stored = current is { } previous && previous.Properties.CreatedOn != p.CreatedOn
                    ? request.Blob with { Properties = p with { CreatedOn = previous.Properties.CreatedOn } }
                    : request.Blob;
                await WriteBlobAsync(tx, containerId, name, stored, inlineId, ct).ConfigureAwait(false);
                await AdjustContainerAsync(tx, containerId, current is null ? 1 : 0, p.Size - (current?.Properties.Size ?? 0), ct).ConfigureAwait(false);
                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
                await NotifyAsync(tx, p.Container, p.Name, ct).ConfigureAwait(false);
                return stored;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> CopyBlobAsync(BlobCopyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Options);

        // Overrides are checked before the transaction: a bad one changes nothing and waits for no lock.
        var options = request.Options;
        MetadataRules.ValidateContentType(options.ContentType, "request.Options.ContentType");
        var tags = options.Tags is null ? null : MetadataRules.ValidateTags(options.Tags, "request.Options.Tags");
        var metadata = options.Metadata is null ? null : MetadataRules.ValidateMetadata(options.Metadata, "request.Options.Metadata");
        return WriteAsync(
            (Request: request, Tags: tags, Metadata: metadata),
            static async (tx, copyRequest, ct) =>
            {
                var request = copyRequest.Request;
                var options = request.Options;
                var sourceContainerId = await ContainerIdAsync(tx, request.SourceContainer, ct).ConfigureAwait(false);
                var source = await ReadBlobAsync(tx, sourceContainerId, request.SourceContainer, Utf8(request.SourceName), ct).ConfigureAwait(false)
                    ?? throw new BlobNotFoundException(request.SourceContainer, request.SourceName);
                BlobCopies.CheckSource(request, source.Record);

                var destinationContainerId = await ContainerIdAsync(tx, request.DestinationContainer, ct).ConfigureAwait(false);
                var name = Utf8(request.DestinationName);
                var current = await ReadBlobAsync(tx, destinationContainerId, request.DestinationContainer, name, ct).ConfigureAwait(false);
                options.DestinationConditions?.Check(request.DestinationContainer, request.DestinationName, current?.Properties.ETag, current?.Properties.LastModified);

                var copy = BlobCopies.Record(request, source.Record, current?.Record, copyRequest.Tags, copyRequest.Metadata);

                // References are added before the destination's are released, so a copy onto itself never drops a count to zero.
                var delta = new StatsDelta { Writes = 1, BytesWritten = source.Properties.Size };
                await ReferenceAsync(tx, source.Chunks, delta, ct).ConfigureAwait(false);
                if (source.InlineId is { } shared) await ReferenceInlineAsync(tx, shared, ct).ConfigureAwait(false);
                if (current is { } old) await ReleaseVersionAsync(tx, old, request.Now, delta, ct).ConfigureAwait(false);
                await WriteBlobAsync(tx, destinationContainerId, name, copy, source.InlineId, ct).ConfigureAwait(false);
                await AdjustContainerAsync(tx, destinationContainerId, current is null ? 1 : 0, copy.Properties.Size - (current?.Properties.Size ?? 0), ct).ConfigureAwait(false);
                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
                await NotifyAsync(tx, request.DestinationContainer, request.DestinationName, ct).ConfigureAwait(false);
                return copy;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> DeleteBlobAsync(string container, string name, BlobRequestConditions? conditions, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync(
            (Container: container, Name: name, Conditions: conditions, Now: now),
            static async (tx, request, ct) =>
            {
                var containerId = await ContainerIdAsync(tx, request.Container, ct).ConfigureAwait(false);
                var name = Utf8(request.Name);
                var current = await ReadBlobAsync(tx, containerId, request.Container, name, ct).ConfigureAwait(false)
                    ?? throw new BlobNotFoundException(request.Container, request.Name);
                request.Conditions?.Check(request.Container, request.Name, current.Properties.ETag, current.Properties.LastModified);
                var delta = new StatsDelta { Deletes = 1 };
                await ReleaseVersionAsync(tx, current, request.Now, delta, ct).ConfigureAwait(false);
                using (var delete = tx.Command("DELETE FROM {S}.blobs WHERE container_id = @container AND name = @name;").Long("@container", containerId).Bytes("@name", name))
                {
                    await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await AdjustContainerAsync(tx, containerId, -1, -current.Properties.Size, ct).ConfigureAwait(false);
                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
                await NotifyAsync(tx, request.Container, request.Name, ct).ConfigureAwait(false);
                return current.Record;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> UpdateBlobMetadataAsync(string container, string name, BlobMetadataUpdate update, string newETag, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(update);
        ArgumentException.ThrowIfNullOrWhiteSpace(newETag);
        return WriteAsync(
            (Container: container, Name: name, Update: update, ETag: newETag, Now: now),
            static async (tx, request, ct) =>
            {
                var containerId = await ContainerIdAsync(tx, request.Container, ct).ConfigureAwait(false);
                var name = Utf8(request.Name);
                var current = await ReadBlobAsync(tx, containerId, request.Container, name, ct).ConfigureAwait(false)
                    ?? throw new BlobNotFoundException(request.Container, request.Name);
                var p = current.Properties;
                request.Update.Conditions?.Check(request.Container, request.Name, p.ETag, p.LastModified);
                var tags = MetadataRules.Apply(p.Tags, request.Update.Tags, request.Update.Mode, tags: true);
                var metadata = MetadataRules.Apply(p.Metadata, request.Update.Metadata, request.Update.Mode, tags: false);
                using (var command = tx.Command("UPDATE {S}.blobs SET tags = @tags, metadata = @metadata, etag = @etag, modified = @modified WHERE container_id = @container AND name = @name;")
                    .Text("@tags", WriteMap(tags))
                    .Text("@metadata", WriteMap(metadata))
                    .Text("@etag", request.ETag)
                    .Long("@modified", Ticks(request.Now))
                    .Long("@container", containerId)
                    .Bytes("@name", name))
                {
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await NotifyAsync(tx, request.Container, request.Name, ct).ConfigureAwait(false);
                return current.Record with { Properties = p with { ETag = request.ETag, LastModified = request.Now, Tags = tags, Metadata = metadata } };
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, CancellationToken cancellationToken = default) =>
        RecordAccessAsync(accesses, committing: null, cancellationToken);

    /// <inheritdoc />
    ValueTask IAccessCommitSignal.RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, Action committing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(committing);
        return RecordAccessAsync(accesses, committing, cancellationToken);
    }

    /// <summary>Adds the accesses in one transaction; <paramref name="committing"/> runs after its statements, just before its commit.</summary>
    private ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, Action? committing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accesses);
        if (accesses.Count == 0) return ValueTask.CompletedTask;
        return WriteAsync(
            (Accesses: accesses, Committing: committing),
            static async (tx, request, ct) =>
            {
                // The reads happened whether or not the blob is still there: the statistics count them all.
                // Counts of a version since replaced match no row: they add to the read statistics only.
                var delta = new StatsDelta();
                foreach (var access in request.Accesses)
                {
                    using var command = tx.Command(
                        """
                        UPDATE {S}.blobs SET access_count = access_count + @count, last_accessed = GREATEST(COALESCE(last_accessed, 0), @at)
                        WHERE container_id = (SELECT id FROM {S}.containers WHERE name = @container) AND name = @name AND version_id = @version;
                        """)
                        .Long("@count", access.Count)
                        .Long("@at", Ticks(access.LastAccessedOn))
                        .Text("@container", access.Container)
                        .Bytes("@name", Utf8(access.Name))
                        .Text("@version", access.VersionId);
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    delta.Reads += access.Count;
                    delta.BytesRead += access.Bytes;
                }

                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
                request.Committing?.Invoke();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Read a page at a time by key, so no connection or snapshot is held while the caller works on the rows.</remarks>
    public async IAsyncEnumerable<BlobRecord> EnumerateBlobsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        (long Container, byte[] Name) after = (long.MinValue, []);
        var pageSize = EnumerationPageSize;
        while (true)
        {
            var page = await ReadAsync(
                (After: after, PageSize: pageSize),
                static async (tx, query, ct) =>
                {
                    var rows = new List<(long ContainerId, byte[] Name, BlobRecord Record)>(query.PageSize);
                    using var command = tx.Command(
                        $$"""
                        SELECT c.id, c.name, {{PropertyColumns}}, b.chunks
                        FROM {S}.blobs b JOIN {S}.containers c ON c.id = b.container_id
                        WHERE (b.container_id, b.name) > (@container, @after)
                        ORDER BY b.container_id, b.name LIMIT @limit;
                        """)
                        .Long("@container", query.After.Container)
                        .Bytes("@after", query.After.Name)
                        .Int("@limit", query.PageSize);
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        var properties = ReadProperties(reader, 2, reader.GetString(1));
                        rows.Add((reader.GetInt64(0), reader.Bytes(2), new BlobRecord(properties, ChunkListCodec.Decode(reader.Bytes(2 + PropertyCount)))));
                    }

                    return rows;
                },
                snapshot: false,
                cancellationToken).ConfigureAwait(false);
            foreach (var (_, _, record) in page) yield return record;
            if (page.Count < pageSize) yield break;
            after = (page[^1].ContainerId, page[^1].Name);
        }
    }

    /// <summary>The current version inside a write transaction, or null; a small blob's content is not read (a damaged one can still be overwritten or deleted).</summary>
    private static async Task<StoredBlob?> ReadBlobAsync(PgTx tx, long containerId, string container, byte[] name, CancellationToken ct)
    {
        using var command = tx.Command($"SELECT {PropertyColumns}, b.chunks, b.inline_id FROM {{S}}.blobs b WHERE b.container_id = @container AND b.name = @name;")
            .Long("@container", containerId)
            .Bytes("@name", name);
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        var record = new BlobRecord(ReadProperties(reader, 0, container), ChunkListCodec.Decode(reader.Bytes(PropertyCount)));
        return new StoredBlob(record, reader.NullableInt64(PropertyCount + 1));
    }

    /// <summary>Reads the <see cref="PropertyColumns"/> starting at <paramref name="first"/>.</summary>
    private static BlobProperties ReadProperties(NpgsqlDataReader reader, int first, string container, BlobListTraits include = BlobListTraits.All) => new()
    {
        Container = container,
        Name = Encoding.UTF8.GetString(reader.Bytes(first)),
        VersionId = reader.GetString(first + 1),
        Size = reader.GetInt64(first + 2),
        ContentType = reader.GetString(first + 3),
        ETag = reader.GetString(first + 4),
        ContentHash = reader.GetString(first + 5),
        StorageClass = (StorageClass)reader.GetInt32(first + 6),
        RehydratingTo = reader.IsDBNull(first + 7) ? null : (StorageClass)reader.GetInt32(first + 7),
        CreatedOn = Time(reader.GetInt64(first + 8)),
        LastModified = Time(reader.GetInt64(first + 9)),
        AccessCount = reader.GetInt64(first + 10),
        LastAccessedOn = reader.IsDBNull(first + 11) ? null : Time(reader.GetInt64(first + 11)),
        PartCount = reader.GetInt32(first + 12),
        Tags = (include & BlobListTraits.Tags) != 0 ? ReadMap(reader, first + 13) : MetadataRules.Empty,
        Metadata = (include & BlobListTraits.Metadata) != 0 ? ReadMap(reader, first + 14) : MetadataRules.Empty,
    };

    private static async Task WriteBlobAsync(PgTx tx, long containerId, byte[] name, BlobRecord record, long? inlineId, CancellationToken ct)
    {
        var p = record.Properties;
        using var command = tx.Command(
            """
            INSERT INTO {S}.blobs (container_id, name, version_id, size, content_type, etag, content_hash, storage_class, rehydrating_to, created, modified,
                access_count, last_accessed, tags, metadata, part_count, chunks, inline_id)
            VALUES (@container, @name, @version, @size, @type, @etag, @hash, @class, @rehydrating, @created, @modified,
                @access_count, @last_accessed, @tags, @metadata, @part_count, @chunks, @inline_id)
            ON CONFLICT (container_id, name) DO UPDATE SET version_id = excluded.version_id, size = excluded.size, content_type = excluded.content_type,
                etag = excluded.etag, content_hash = excluded.content_hash, storage_class = excluded.storage_class, rehydrating_to = excluded.rehydrating_to,
                created = excluded.created, modified = excluded.modified, access_count = excluded.access_count, last_accessed = excluded.last_accessed,
                tags = excluded.tags, metadata = excluded.metadata, part_count = excluded.part_count, chunks = excluded.chunks, inline_id = excluded.inline_id;
            """)
            .Long("@container", containerId)
            .Bytes("@name", name)
            .Text("@version", p.VersionId)
            .Long("@size", p.Size)
            .Text("@type", p.ContentType)
            .Text("@etag", p.ETag)
            .Text("@hash", p.ContentHash)
            .Int("@class", (int)p.StorageClass)
            .Int("@rehydrating", p.RehydratingTo is { } target ? (int)target : null)
            .Long("@created", Ticks(p.CreatedOn))
            .Long("@modified", Ticks(p.LastModified))
            .Long("@access_count", p.AccessCount)
            .Long("@last_accessed", NullableTicks(p.LastAccessedOn))
            .Text("@tags", WriteMap(p.Tags))
            .Text("@metadata", WriteMap(p.Metadata))
            .Int("@part_count", p.PartCount)
            .Bytes("@chunks", ChunkListCodec.Encode(record.Chunks))
            .Long("@inline_id", inlineId);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stores the content of a small blob and returns its row; its bytes count as stored.</summary>
    private static async Task<long> AddInlineAsync(PgTx tx, ReadOnlyMemory<byte> content, StatsDelta delta, CancellationToken ct)
    {
        using var command = tx.Command("INSERT INTO {S}.inline_content (refcount, checksum, data) VALUES (1, @checksum, @data) RETURNING id;")
            .Long("@checksum", unchecked((long)BlockChecksum.Compute(content.Span)))
            .Bytes("@data", content);
        var id = (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        delta.StoredBytes += content.Length;
        return id;
    }

    /// <summary>Counts one more blob sharing the content (a copy).</summary>
    private static async Task ReferenceInlineAsync(PgTx tx, long inlineId, CancellationToken ct)
    {
        using var command = tx.Command("UPDATE {S}.inline_content SET refcount = refcount + 1 WHERE id = @id;").Long("@id", inlineId);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops one blob's share of the content; the last share deletes it at once (a reader holds the bytes it read, not
    /// the row). A missing row is skipped, so a blob that lost its content can still be deleted.
    /// </summary>
    private static async Task ReleaseInlineAsync(PgTx tx, long inlineId, StatsDelta delta, CancellationToken ct)
    {
        long remaining, length;
        using (var command = tx.Command("UPDATE {S}.inline_content SET refcount = refcount - 1 WHERE id = @id RETURNING refcount, length(data);").Long("@id", inlineId))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return;
            remaining = reader.GetInt64(0);
            length = reader.GetInt32(1);
        }

        if (remaining < 0)
        {
            throw new DataCorruptionException($"Inline content {inlineId} would have {remaining} references; its count is wrong. Run a verification.");
        }

        if (remaining > 0) return;
        using var delete = tx.Command("DELETE FROM {S}.inline_content WHERE id = @id;").Long("@id", inlineId);
        await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        delta.StoredBytes -= length;
    }

    /// <summary>Releases everything a blob version holds: its chunks and its share of inline content.</summary>
    private static async Task ReleaseVersionAsync(PgTx tx, StoredBlob current, DateTimeOffset now, StatsDelta delta, CancellationToken ct)
    {
        await ReleaseAsync(tx, current.Record.Chunks, now, delta, ct).ConfigureAwait(false);
        if (current.InlineId is { } inlineId) await ReleaseInlineAsync(tx, inlineId, delta, ct).ConfigureAwait(false);
    }

    /// <summary>The inline content at <paramref name="first"/> (id, checksum, data), verified against its checksum; null for a blob kept in chunks.</summary>
    private static byte[]? ReadInline(NpgsqlDataReader reader, int first, string container, string name)
    {
        if (reader.IsDBNull(first)) return null;
        if (reader.IsDBNull(first + 2))
        {
            throw new DataCorruptionException($"The content of blob '{name}' in container '{container}', kept in the metadata database, is missing.");
        }

        var content = reader.Bytes(first + 2);
        if (unchecked((ulong)reader.GetInt64(first + 1)) != BlockChecksum.Compute(content))
        {
            throw new DataCorruptionException($"The content of blob '{name}' in container '{container}', kept in the metadata database, fails its checksum.");
        }

        return content;
    }

    /// <summary>Tags and custom metadata as a JSON object, NULL when empty; keys in the dictionary's order.</summary>
    private static string? WriteMap(IReadOnlyDictionary<string, string> values)
    {
        if (values.Count == 0) return null;
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in values) writer.WriteString(key, value);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static IReadOnlyDictionary<string, string> ReadMap(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal)) return MetadataRules.Empty;
        try
        {
            var json = Encoding.UTF8.GetBytes(reader.GetString(ordinal));
            var parser = new Utf8JsonReader(json);
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!parser.Read() || parser.TokenType != JsonTokenType.StartObject) throw MalformedMap();
            while (parser.Read() && parser.TokenType == JsonTokenType.PropertyName)
            {
                var key = parser.GetString()!;
                if (!parser.Read() || parser.TokenType != JsonTokenType.String) throw MalformedMap();
                values[key] = parser.GetString()!;
            }

            if (parser.TokenType != JsonTokenType.EndObject) throw MalformedMap();
            return values;
        }
        catch (JsonException ex)
        {
            throw MalformedMap(ex);
        }
    }

    private static DataCorruptionException MalformedMap(Exception? inner = null) => new("A stored tag or metadata column is not a JSON object of strings.", inner);

    /// <summary>A blob row read inside a write transaction: its record (chunks, no inline bytes) and its inline content row, if any.</summary>
    private sealed record StoredBlob(BlobRecord Record, long? InlineId)
    {
        public BlobProperties Properties => Record.Properties;

        public IReadOnlyList<ChunkReference> Chunks => Record.Chunks;
    }
}
