using System.Runtime.CompilerServices;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    // The properties first and the chunk list last, so a listing reads the same ordinals without the list.
    // The columns the properties are stored in are written; they are read back as one (PropertiesColumn).
    private const string PropertyColumns = "name, properties, tags, metadata";

    private const string WrittenColumns =
        "name, version_id, size, content_type, etag, content_hash, storage_class, created, modified, access_count, last_accessed, tags, metadata, part_count, chunks";

    private const string BlobColumns = PropertyColumns + ", chunks";
    private const int ChunksOrdinal = 4;
    private const int InlineOrdinal = 5;

    // Inside a write transaction the content of a small blob is not read: a damaged one can still be overwritten or deleted.
    private const string SelectBlobSql = $"SELECT {BlobColumns}, inline_id FROM blobs WHERE container_id = @container AND name = @name;";

    // A read takes a small blob's content (and its checksum) with the row: one statement serves the download.
    private const string SelectBlobByContainerNameSql =
        $"""
        SELECT {BlobColumns}, blobs.inline_id, ic.checksum, ic.data
        FROM blobs LEFT JOIN inline_content ic ON ic.id = blobs.inline_id
        WHERE blobs.container_id = (SELECT c.id FROM containers c WHERE c.name = @container) AND blobs.name = @name;
        """;

    private const string UpsertBlobSql =
        $"""
        INSERT OR REPLACE INTO blobs (container_id, {WrittenColumns}, inline_id)
        VALUES (@container, @name, @version, @size, @type, @etag, @hash, @class, @created, @modified, @access_count, @last_accessed, @tags, @metadata, @part_count, @chunks, @inline_id);
        """;

    private const string DeleteBlobSql = "DELETE FROM blobs WHERE container_id = @container AND name = @name;";

    private const string UpdateBlobMetadataSql =
        "UPDATE blobs SET tags = @tags, metadata = @metadata, etag = @etag, modified = @modified WHERE container_id = @container AND name = @name;";

    // Counts of a version since replaced match no row: they add to the read statistics only.
    private const string RecordAccessSql =
        """
        UPDATE blobs SET access_count = access_count + @count, last_accessed = MAX(COALESCE(last_accessed, 0), @at)
        WHERE container_id = (SELECT id FROM containers WHERE name = @container) AND name = @name AND version_id = @version;
        """;

    private const string EnumerateBlobsSql =
        """
        SELECT c.id, c.name, b.name, b.properties, b.tags, b.metadata, b.chunks
        FROM blobs b JOIN containers c ON c.id = b.container_id
        WHERE (b.container_id, b.name) > (@container, @after)
        ORDER BY b.container_id, b.name LIMIT @limit;
        """;

    /// <inheritdoc />
    public ValueTask<BlobRecord?> GetBlobAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync((Container: container, Name: name), static (session, key) => SelectBlob(session, key.Container, key.Name, rentInline: false)?.Record, snapshot: false, cancellationToken);
    }

    /// <inheritdoc />
    ValueTask<PooledBlobRecord?> IPooledInlineSource.GetBlobPooledAsync(string container, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync((Container: container, Name: name), static (session, key) => SelectBlob(session, key.Container, key.Name, rentInline: true), snapshot: false, cancellationToken);
    }

    /// <summary>The blob and its verified inline content, in a new array or (<paramref name="rentInline"/>) a rented one; null when there is none.</summary>
    private static PooledBlobRecord? SelectBlob(SqliteSession session, string container, string name, bool rentInline)
    {
        // Every download starts here: SQLite's own API, without a command, parameter or reader object.
        var statement = session.Statement(SelectBlobByContainerNameSql);
        try
        {
            statement.BindText("@container", container);
            statement.BindBlob("@name", session.NameBuffer.AsSpan(0, Encoding.UTF8.GetBytes(name, session.NameBuffer)));
            if (!statement.Step()) return null;
            var row = statement.Row;
            var properties = ReadProperties(row, 0, container, name);
            var chunks = ChunkListCodec.DecodeLazily(row.GetBlob(ChunksOrdinal));
            var inline = ReadInline(row, InlineOrdinal, container, name, rentInline, out var length);
            return rentInline
                ? new PooledBlobRecord(new BlobRecord(properties, chunks), inline, length)
                : new PooledBlobRecord(new BlobRecord(properties, chunks) { InlineContent = inline is null ? null : (ReadOnlyMemory<byte>?)inline }, null, 0);
        }
        finally
        {
            statement.Reset();
        }
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> CommitBlobAsync(BlobRecord blob, BlobRequestConditions? conditions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(blob.Properties);
        ArgumentNullException.ThrowIfNull(blob.Chunks);
        return WriteAsync(
            (Blob: blob, Conditions: conditions),
            static (session, request) =>
            {
                var p = request.Blob.Properties;
                var containerId = ContainerId(session, p.Container);
                var name = Utf8(p.Name);
                var current = ReadBlob(session, containerId, p.Container, p.Name, name);
                request.Conditions?.Check(p.Container, p.Name, current?.Properties.ETag, current?.Properties.LastModified);

                // New references first: a chunk both versions share never touches zero on the way.
                var delta = new StatsDelta { Writes = 1, BytesWritten = p.Size };
                Reference(session, request.Blob.Chunks, ref delta);
                var inlineId = request.Blob.InlineContent is { } inline ? AddInline(session, inline.Span, ref delta) : (long?)null;
                if (current is { } old) ReleaseVersion(session, old, p.LastModified, ref delta);

                var stored = current is { } previous && previous.Properties.CreatedOn != p.CreatedOn
                    ? request.Blob with { Properties = Change(p, createdOn: previous.Properties.CreatedOn) }
                    : request.Blob;
                WriteBlob(session, containerId, name, stored, inlineId);
                AdjustContainer(session, containerId, current is null ? 1 : 0, p.Size - (current?.Properties.Size ?? 0));
                ApplyStats(session, delta);
                return stored;
            },
            cancellationToken);
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
            static (session, copyRequest) =>
            {
                var request = copyRequest.Request;
                var options = request.Options;
                var sourceContainerId = ContainerId(session, request.SourceContainer);
                var source = ReadBlob(session, sourceContainerId, request.SourceContainer, request.SourceName, Utf8(request.SourceName))
                    ?? throw new BlobNotFoundException(request.SourceContainer, request.SourceName);
                BlobCopies.CheckSource(request, source.Record);

                var destinationContainerId = ContainerId(session, request.DestinationContainer);
                var name = Utf8(request.DestinationName);
                var current = ReadBlob(session, destinationContainerId, request.DestinationContainer, request.DestinationName, name);
                options.DestinationConditions?.Check(request.DestinationContainer, request.DestinationName, current?.Properties.ETag, current?.Properties.LastModified);

                var copy = BlobCopies.Record(request, source.Record, current?.Record, copyRequest.Tags, copyRequest.Metadata);

                // References are added before the destination's are released, so a copy onto itself never drops a count to zero.
                // Inline content is shared like chunks: the copy counts a reference to the same row.
                var delta = new StatsDelta { Writes = 1, BytesWritten = source.Properties.Size };
                Reference(session, source.Chunks, ref delta);
                if (source.InlineId is { } shared) ReferenceInline(session, shared);
                if (current is { } old) ReleaseVersion(session, old, request.Now, ref delta);
                WriteBlob(session, destinationContainerId, name, copy, source.InlineId);
                AdjustContainer(session, destinationContainerId, current is null ? 1 : 0, copy.Properties.Size - (current?.Properties.Size ?? 0));
                ApplyStats(session, delta);
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
            static (session, request) =>
            {
                var containerId = ContainerId(session, request.Container);
                var name = Utf8(request.Name);
                var current = ReadBlob(session, containerId, request.Container, request.Name, name)
                    ?? throw new BlobNotFoundException(request.Container, request.Name);
                request.Conditions?.Check(request.Container, request.Name, current.Properties.ETag, current.Properties.LastModified);
                var delta = new StatsDelta { Deletes = 1 };
                ReleaseVersion(session, current, request.Now, ref delta);
                session.Statement(DeleteBlobSql).Set("@container", containerId).Set("@name", name).Execute();
                AdjustContainer(session, containerId, -1, -current.Properties.Size);
                ApplyStats(session, delta);
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
            static (session, request) =>
            {
                var containerId = ContainerId(session, request.Container);
                var name = Utf8(request.Name);
                var current = ReadBlob(session, containerId, request.Container, request.Name, name)
                    ?? throw new BlobNotFoundException(request.Container, request.Name);
                var p = current.Properties;
                request.Update.Conditions?.Check(request.Container, request.Name, p.ETag, p.LastModified);
                var tags = MetadataRules.Apply(p.Tags, request.Update.Tags, request.Update.Mode, tags: true);
                var metadata = MetadataRules.Apply(p.Metadata, request.Update.Metadata, request.Update.Mode, tags: false);
                session.Command(UpdateBlobMetadataSql)
                    .Set("@tags", JsonMap.Write(tags))
                    .Set("@metadata", JsonMap.Write(metadata))
                    .Set("@etag", request.ETag)
                    .Set("@modified", Ticks(request.Now))
                    .Set("@container", containerId)
                    .Set("@name", name)
                    .ExecuteNonQuery();
                return current.Record with { Properties = Change(p, etag: request.ETag, modified: request.Now, tags: tags, metadata: metadata) };
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, CancellationToken cancellationToken = default) =>
        RecordAccessAsync(accesses, committing: null, cancellationToken);

    /// <inheritdoc />
    ValueTask IAccessCommitSignal.RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, Action committing, CancellationToken cancellationToken) =>
        RecordAccessAsync(accesses, committing, cancellationToken);

    private ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, Action? committing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accesses);
        if (accesses.Count == 0) return ValueTask.CompletedTask;
        return WriteAsync(
            (Accesses: accesses, Committing: committing),
            static (session, call) =>
            {
                var accesses = call.Accesses;
                // The reads happened whether or not the blob is still there: the statistics count them all.
                var delta = new StatsDelta();
                var statement = session.Statement(RecordAccessSql);
                foreach (var access in accesses)
                {
                    statement.Set("@count", access.Count)
                        .Set("@at", Ticks(access.LastAccessedOn))
                        .Set("@container", access.Container)
                        .Set("@name", Utf8(access.Name))
                        .Set("@version", access.VersionId)
                        .Execute();
                    delta.Reads += access.Count;
                    delta.BytesRead += access.Bytes;
                }

                ApplyStats(session, delta);

                // The last statement of this work: what follows is the transaction's commit (this work's, or its group's).
                call.Committing?.Invoke();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Read a page at a time by key, so no connection or snapshot is held while the caller works on the rows.</remarks>
    public async IAsyncEnumerable<BlobRecord> EnumerateBlobsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        (long Container, byte[] Name) after = (long.MinValue, []);
        var pageSize = _enumerationPageSize;
        while (true)
        {
            var page = await ReadAsync(
                (After: after, PageSize: pageSize),
                static (session, query) =>
                {
                    var rows = new List<(long ContainerId, BlobRecord Record)>(query.PageSize);
                    using var reader = session.Command(EnumerateBlobsSql)
                        .Set("@container", query.After.Container)
                        .Set("@after", query.After.Name)
                        .Set("@limit", query.PageSize)
                        .ExecuteReader();
                    while (reader.Read())
                    {
                        var properties = ReadProperties(reader, 2, reader.GetString(1), name: null);
                        rows.Add((reader.GetInt64(0), new BlobRecord(properties, ChunkListCodec.Read(reader, 2 + ChunksOrdinal))));
                    }

                    return rows;
                },
                snapshot: false,
                cancellationToken).ConfigureAwait(false);
            foreach (var (_, record) in page) yield return record;
            if (page.Count < pageSize) yield break;
            after = (page[^1].ContainerId, Utf8(page[^1].Record.Properties.Name));
        }
    }

    /// <summary>The current version inside a write transaction, or null; a small blob's content is not read.</summary>
    private static StoredBlob? ReadBlob(SqliteSession session, long containerId, string container, string name, byte[] nameBytes)
    {
        var statement = session.Statement(SelectBlobSql).Set("@container", containerId).Set("@name", nameBytes);
        try
        {
            if (!statement.Step()) return null;
            var row = statement.Row;
            var record = new BlobRecord(ReadProperties(row, 0, container, name), ChunkListCodec.Decode(row.GetBlob(ChunksOrdinal)));
            return new StoredBlob(record, row.IsNull(InlineOrdinal) ? null : row.GetInt64(InlineOrdinal));
        }
        finally
        {
            statement.Reset();
        }
    }

    /// <summary>
    /// Reads the properties of a row whose <see cref="PropertyColumns"/> start at <paramref name="first"/>.
    /// The name is decoded from the row unless the caller already has it.
    /// </summary>
    private static BlobProperties ReadProperties(SqliteDataReader reader, int first, string container, string? name) =>
        ReadProperties(new ReaderRow(reader), first, container, name);

    /// <inheritdoc cref="ReadProperties(SqliteDataReader, int, string, string?)"/>
    /// <remarks>Of tags and metadata, only those <c>include</c> names are read; the others are left empty, their columns untouched.</remarks>
    // Optimized at first call, as the listing that calls it per row (see List).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static BlobProperties ReadProperties<TRow>(TRow row, int first, string container, string? name, BlobListTraits include = BlobListTraits.All)
        where TRow : struct, ISqliteRow =>
        PropertiesColumn.Read(
            row.GetBlob(first + 1),
            container,
            name ?? Encoding.UTF8.GetString(row.GetBlob(first)),
            (include & BlobListTraits.Tags) != 0 ? JsonMap.Read(row, first + 2) : MetadataRules.Empty,
            (include & BlobListTraits.Metadata) != 0 ? JsonMap.Read(row, first + 3) : MetadataRules.Empty);

    private static void WriteBlob(SqliteSession session, long containerId, byte[] name, BlobRecord record, long? inlineId)
    {
        var p = record.Properties;
        session.Statement(UpsertBlobSql)
            .Set("@container", containerId)
            .Set("@name", name)
            .Set("@version", p.VersionId)
            .Set("@size", p.Size)
            .Set("@type", p.ContentType)
            .Set("@etag", p.ETag)
            .Set("@hash", p.ContentHash)
            .Set("@class", StorageClassColumn.Encode(p.StorageClass, p.RehydratingTo))
            .Set("@created", Ticks(p.CreatedOn))
            .Set("@modified", Ticks(p.LastModified))
            .Set("@access_count", p.AccessCount)
            .Set("@last_accessed", NullableTicks(p.LastAccessedOn))
            .Set("@tags", JsonMap.Write(p.Tags))
            .Set("@metadata", JsonMap.Write(p.Metadata))
            .Set("@part_count", p.PartCount)
            .Set("@chunks", ChunkListCodec.Encode(record.Chunks))
            .Set("@inline_id", inlineId)
            .Execute();
    }

    private static BlobProperties Change(
        BlobProperties p,
        DateTimeOffset? createdOn = null,
        string? etag = null,
        DateTimeOffset? modified = null,
        IReadOnlyDictionary<string, string>? tags = null,
        IReadOnlyDictionary<string, string>? metadata = null) => new()
        {
            Container = p.Container,
            Name = p.Name,
            VersionId = p.VersionId,
            Size = p.Size,
            ContentType = p.ContentType,
            ETag = etag ?? p.ETag,
            ContentHash = p.ContentHash,
            StorageClass = p.StorageClass,
            RehydratingTo = p.RehydratingTo,
            CreatedOn = createdOn ?? p.CreatedOn,
            LastModified = modified ?? p.LastModified,
            AccessCount = p.AccessCount,
            LastAccessedOn = p.LastAccessedOn,
            PartCount = p.PartCount,
            Tags = tags ?? p.Tags,
            Metadata = metadata ?? p.Metadata,
        };
}
