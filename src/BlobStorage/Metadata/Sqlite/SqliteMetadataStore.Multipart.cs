using System.Runtime.CompilerServices;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const string UploadColumns =
        "u.id, c.name, u.name, u.content_type, u.storage_class, u.tags, u.metadata, u.if_match, u.if_none_match, u.if_modified_since, u.if_unmodified_since, u.started, " +
        "(SELECT COUNT(*) FROM parts p WHERE p.upload_id = u.id), (SELECT COALESCE(SUM(size), 0) FROM parts p WHERE p.upload_id = u.id)";

    private const string InsertUploadSql =
        """
        INSERT INTO uploads (id, container_id, name, content_type, storage_class, tags, metadata, if_match, if_none_match, if_modified_since, if_unmodified_since, started)
        VALUES (@id, @container, @name, @type, @class, @tags, @metadata, @if_match, @if_none_match, @if_modified_since, @if_unmodified_since, @started);
        """;

    private const string SelectUploadSql = $"SELECT {UploadColumns} FROM uploads u JOIN containers c ON c.id = u.container_id WHERE u.id = @id;";
    private const string UploadExistsSql = "SELECT 1 FROM uploads WHERE id = @id;";
    private const string PartChunksSql = "SELECT chunks FROM parts WHERE upload_id = @id AND part_number = @number;";
    private const string UploadChunkListsSql = "SELECT chunks FROM parts WHERE upload_id = @id;";

    private const string UpsertPartSql =
        """
        INSERT OR REPLACE INTO parts (upload_id, part_number, etag, size, content_hash, uploaded, chunks)
        VALUES (@upload, @number, @etag, @size, @hash, @uploaded, @chunks);
        """;

    private const string ListPartsSql =
        "SELECT part_number, etag, size, content_hash, uploaded FROM parts WHERE upload_id = @id AND part_number > @after ORDER BY part_number LIMIT @limit;";

    private const string ListUploadsSql =
        $"SELECT {UploadColumns} FROM uploads u JOIN containers c ON c.id = u.container_id WHERE u.container_id = @container ORDER BY u.name, u.started, u.id;";

    private const string UploadPartsSql = "SELECT part_number, etag, size, content_hash, uploaded, chunks FROM parts WHERE upload_id = @id;";
    private const string DeletePartsSql = "DELETE FROM parts WHERE upload_id = @id;";
    private const string DeleteUploadSql = "DELETE FROM uploads WHERE id = @id;";
    private const string StaleUploadsSql = "SELECT id FROM uploads WHERE started < @before ORDER BY started LIMIT @limit;";

    private const string EnumeratePartsSql =
        """
        SELECT upload_id, part_number, etag, size, content_hash, uploaded, chunks FROM parts
        WHERE (upload_id, part_number) > (@upload, @number) ORDER BY upload_id, part_number LIMIT @limit;
        """;

    /// <inheritdoc />
    public ValueTask CreateMultipartUploadAsync(MultipartUpload upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return WriteAsync(
            upload,
            static (session, upload) =>
            {
                var containerId = ContainerId(session, upload.Container);
                var conditions = upload.Conditions;
                session.Command(InsertUploadSql)
                    .Set("@id", upload.UploadId)
                    .Set("@container", containerId)
                    .Set("@name", Utf8(upload.Name))
                    .Set("@type", upload.ContentType)
                    .Set("@class", (int)upload.StorageClass)
                    .Set("@tags", JsonMap.Write(upload.Tags))
                    .Set("@metadata", JsonMap.Write(upload.Metadata))
                    .Set("@if_match", conditions?.IfMatch)
                    .Set("@if_none_match", conditions?.IfNoneMatch)
                    .Set("@if_modified_since", NullableTicks(conditions?.IfModifiedSince))
                    .Set("@if_unmodified_since", NullableTicks(conditions?.IfUnmodifiedSince))
                    .Set("@started", Ticks(upload.StartedOn))
                    .ExecuteNonQuery();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<MultipartUpload?> GetMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        return ReadAsync(uploadId, static (session, uploadId) => FindUpload(session, uploadId), snapshot: false, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask CommitPartAsync(PartRecord part, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(part);
        return WriteAsync(
            (Part: part, Now: now),
            static (session, request) =>
            {
                var part = request.Part;
                if (session.Command(UploadExistsSql).Set("@id", part.UploadId).ExecuteScalar() is null)
                {
                    throw new UploadNotFoundException(part.UploadId);
                }

                var delta = new StatsDelta();
                Reference(session, part.Chunks, ref delta);
                var previous = session.Command(PartChunksSql).Set("@id", part.UploadId).Set("@number", part.Part.PartNumber).ExecuteScalar() as byte[];
                if (previous is not null) Release(session, ChunkListCodec.Decode(previous), request.Now, ref delta);
                session.Command(UpsertPartSql)
                    .Set("@upload", part.UploadId)
                    .Set("@number", part.Part.PartNumber)
                    .Set("@etag", part.Part.ETag)
                    .Set("@size", part.Part.Size)
                    .Set("@hash", part.Part.ContentHash)
                    .Set("@uploaded", Ticks(part.Part.UploadedOn))
                    .Set("@chunks", ChunkListCodec.Encode(part.Chunks))
                    .ExecuteNonQuery();
                ApplyStats(session, delta);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UploadedPart>> ListPartsAsync(string uploadId, int afterPartNumber, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync<(string UploadId, int After, int Limit), IReadOnlyList<UploadedPart>>(
            (uploadId, afterPartNumber, limit),
            static (session, query) =>
            {
                if (session.Command(UploadExistsSql).Set("@id", query.UploadId).ExecuteScalar() is null)
                {
                    throw new UploadNotFoundException(query.UploadId);
                }

                var parts = new List<UploadedPart>();
                using var reader = session.Command(ListPartsSql).Set("@id", query.UploadId).Set("@after", query.After).Set("@limit", query.Limit).ExecuteReader();
                while (reader.Read()) parts.Add(ReadPart(reader, 0));
                return parts;
            },
            snapshot: true,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<MultipartUpload>> ListMultipartUploadsAsync(string container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return ReadAsync<string, IReadOnlyList<MultipartUpload>>(
            container,
            static (session, container) =>
            {
                var containerId = ContainerId(session, container);
                var uploads = new List<MultipartUpload>();
                using var reader = session.Command(ListUploadsSql).Set("@container", containerId).ExecuteReader();
                while (reader.Read()) uploads.Add(ReadUpload(reader));
                return uploads;
            },
            snapshot: true,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<BlobRecord> CompleteMultipartUploadAsync(MultipartCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(completion);
        ArgumentNullException.ThrowIfNull(completion.Parts);
        return WriteAsync(
            completion,
            static (session, completion) =>
            {
                var upload = FindUpload(session, completion.UploadId) ?? throw new UploadNotFoundException(completion.UploadId);
                var stored = new Dictionary<int, (UploadedPart Part, ChunkReference[] Chunks)>();
                using (var reader = session.Command(UploadPartsSql).Set("@id", upload.UploadId).ExecuteReader())
                {
                    while (reader.Read()) stored[reader.GetInt32(0)] = (ReadPart(reader, 0), ChunkListCodec.Read(reader, 5));
                }

                var (chunks, contentHash, size) = MultipartAssembly.Assemble(completion, upload.UploadId, stored);

                var containerId = ContainerId(session, upload.Container);
                var name = Utf8(upload.Name);
                var current = ReadBlob(session, containerId, upload.Container, upload.Name, name);
                upload.Conditions?.Check(upload.Container, upload.Name, current?.Properties.ETag, current?.Properties.LastModified);

                // The named parts' references move to the blob as they are; only what is left behind is released.
                var delta = new StatsDelta { Writes = 1, BytesWritten = size };
                var named = completion.Parts.Select(p => p.PartNumber).ToHashSet();
                foreach (var (number, part) in stored)
                {
                    if (!named.Contains(number)) Release(session, part.Chunks, completion.Now, ref delta);
                }

                if (current is { } old) ReleaseVersion(session, old, completion.Now, ref delta);
                var blob = new BlobRecord(
                    new BlobProperties
                    {
                        Container = upload.Container,
                        Name = upload.Name,
                        VersionId = completion.VersionId,
                        Size = size,
                        ContentType = upload.ContentType,
                        ETag = MultipartHash.PartETag(contentHash),
                        ContentHash = contentHash,
                        StorageClass = upload.StorageClass,
                        CreatedOn = current?.Properties.CreatedOn ?? completion.Now,
                        LastModified = completion.Now,
                        Tags = upload.Tags,
                        Metadata = upload.Metadata,
                        PartCount = completion.Parts.Count,
                    },
                    chunks);
                WriteBlob(session, containerId, name, blob, inlineId: null);
                session.Command(DeletePartsSql).Set("@id", upload.UploadId).ExecuteNonQuery();
                session.Command(DeleteUploadSql).Set("@id", upload.UploadId).ExecuteNonQuery();
                AdjustContainer(session, containerId, current is null ? 1 : 0, size - (current?.Properties.Size ?? 0));
                ApplyStats(session, delta);
                return blob;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask AbortMultipartUploadAsync(string uploadId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        return WriteAsync(
            (UploadId: uploadId, Now: now),
            static (session, request) =>
            {
                if (session.Command(UploadExistsSql).Set("@id", request.UploadId).ExecuteScalar() is null)
                {
                    throw new UploadNotFoundException(request.UploadId);
                }

                var delta = new StatsDelta();
                DropUpload(session, request.UploadId, request.Now, ref delta);
                ApplyStats(session, delta);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> GetStaleMultipartUploadsAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync<(DateTimeOffset Before, int Limit), IReadOnlyList<string>>(
            (startedBefore, limit),
            static (session, query) =>
            {
                var ids = new List<string>();
                using var reader = session.Command(StaleUploadsSql).Set("@before", Ticks(query.Before)).Set("@limit", query.Limit).ExecuteReader();
                while (reader.Read()) ids.Add(reader.GetString(0));
                return ids;
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Read a page at a time by key, so no connection or snapshot is held while the caller works on the rows.</remarks>
    public async IAsyncEnumerable<PartRecord> EnumeratePartsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        (string Upload, int Number) after = ("", 0);
        var pageSize = _enumerationPageSize;
        while (true)
        {
            var page = await ReadAsync(
                (After: after, PageSize: pageSize),
                static (session, query) =>
                {
                    var rows = new List<PartRecord>(query.PageSize);
                    using var reader = session.Command(EnumeratePartsSql)
                        .Set("@upload", query.After.Upload)
                        .Set("@number", query.After.Number)
                        .Set("@limit", query.PageSize)
                        .ExecuteReader();
                    while (reader.Read()) rows.Add(new PartRecord(reader.GetString(0), ReadPart(reader, 1), ChunkListCodec.Read(reader, 6)));
                    return rows;
                },
                snapshot: false,
                cancellationToken).ConfigureAwait(false);
            foreach (var row in page) yield return row;
            if (page.Count < pageSize) yield break;
            after = (page[^1].UploadId, page[^1].Part.PartNumber);
        }
    }

    /// <summary>Releases every part of an upload and forgets it.</summary>
    private static void DropUpload(SqliteSession session, string uploadId, DateTimeOffset now, ref StatsDelta delta)
    {
        var released = new List<ChunkReference>();
        using (var reader = session.Command(UploadChunkListsSql).Set("@id", uploadId).ExecuteReader())
        {
            while (reader.Read()) released.AddRange(ChunkListCodec.Read(reader, 0));
        }

        Release(session, released, now, ref delta);
        session.Command(DeletePartsSql).Set("@id", uploadId).ExecuteNonQuery();
        session.Command(DeleteUploadSql).Set("@id", uploadId).ExecuteNonQuery();
    }

    private static MultipartUpload? FindUpload(SqliteSession session, string uploadId)
    {
        using var reader = session.Command(SelectUploadSql).Set("@id", uploadId).ExecuteReader();
        return reader.Read() ? ReadUpload(reader) : null;
    }

    private static MultipartUpload ReadUpload(SqliteDataReader reader)
    {
        BlobRequestConditions? conditions = null;
        if (!reader.IsDBNull(7) || !reader.IsDBNull(8) || !reader.IsDBNull(9) || !reader.IsDBNull(10))
        {
            conditions = new BlobRequestConditions
            {
                IfMatch = reader.IsDBNull(7) ? null : reader.GetString(7),
                IfNoneMatch = reader.IsDBNull(8) ? null : reader.GetString(8),
                IfModifiedSince = reader.IsDBNull(9) ? null : Time(reader.GetInt64(9)),
                IfUnmodifiedSince = reader.IsDBNull(10) ? null : Time(reader.GetInt64(10)),
            };
        }

        return new MultipartUpload
        {
            UploadId = reader.GetString(0),
            Container = reader.GetString(1),
            Name = Encoding.UTF8.GetString(reader.GetFieldValue<byte[]>(2)),
            ContentType = reader.GetString(3),
            StorageClass = (StorageClass)reader.GetInt32(4),
            Tags = JsonMap.Read(reader, 5),
            Metadata = JsonMap.Read(reader, 6),
            Conditions = conditions,
            StartedOn = Time(reader.GetInt64(11)),
            PartCount = reader.GetInt32(12),
            BytesUploaded = reader.GetInt64(13),
        };
    }

    private static UploadedPart ReadPart(SqliteDataReader reader, int first) => new()
    {
        PartNumber = reader.GetInt32(first),
        ETag = reader.GetString(first + 1),
        Size = reader.GetInt64(first + 2),
        ContentHash = reader.GetString(first + 3),
        UploadedOn = Time(reader.GetInt64(first + 4)),
    };
}
