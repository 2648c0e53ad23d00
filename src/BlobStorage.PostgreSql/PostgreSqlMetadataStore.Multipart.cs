using System.Runtime.CompilerServices;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.PostgreSql.Internal;
using Npgsql;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore
{
    private const string UploadColumns =
        "u.id, c.name, u.name, u.content_type, u.storage_class, u.tags, u.metadata, u.if_match, u.if_none_match, u.if_modified_since, u.if_unmodified_since, u.started, " +
        "(SELECT COUNT(*) FROM {S}.parts p WHERE p.upload_id = u.id), (SELECT COALESCE(SUM(size), 0)::bigint FROM {S}.parts p WHERE p.upload_id = u.id)";

    /// <inheritdoc />
    public ValueTask CreateMultipartUploadAsync(MultipartUpload upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return WriteAsync(
            upload,
            static async (tx, upload, ct) =>
            {
                var containerId = await ContainerIdAsync(tx, upload.Container, ct).ConfigureAwait(false);
                var conditions = upload.Conditions;
                using var command = tx.Command(
                    """
                    INSERT INTO {S}.uploads (id, container_id, name, content_type, storage_class, tags, metadata, if_match, if_none_match, if_modified_since, if_unmodified_since, started)
                    VALUES (@id, @container, @name, @type, @class, @tags, @metadata, @if_match, @if_none_match, @if_modified_since, @if_unmodified_since, @started);
                    """)
                    .Text("@id", upload.UploadId)
                    .Long("@container", containerId)
                    .Bytes("@name", Utf8(upload.Name))
                    .Text("@type", upload.ContentType)
                    .Int("@class", (int)upload.StorageClass)
                    .Text("@tags", WriteMap(upload.Tags))
                    .Text("@metadata", WriteMap(upload.Metadata))
                    .Text("@if_match", conditions?.IfMatch)
                    .Text("@if_none_match", conditions?.IfNoneMatch)
                    .Long("@if_modified_since", NullableTicks(conditions?.IfModifiedSince))
                    .Long("@if_unmodified_since", NullableTicks(conditions?.IfUnmodifiedSince))
                    .Long("@started", Ticks(upload.StartedOn));
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<MultipartUpload?> GetMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        return ReadAsync(uploadId, static (tx, uploadId, ct) => FindUploadAsync(tx, uploadId, ct), snapshot: true, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask CommitPartAsync(PartRecord part, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(part);
        return WriteAsync((Part: part, Now: now, Epoch: (long?)null), static (tx, request, ct) => CommitPartAsync(tx, request.Part, request.Now, request.Epoch, ct), cancellationToken);
    }

    private static async Task CommitPartAsync(PgTx tx, PartRecord part, DateTimeOffset now, long? collectionEpoch, CancellationToken ct)
    {
        var request = (Part: part, Now: now);
        {
            {
                if (!await UploadExistsAsync(tx, part.UploadId, ct).ConfigureAwait(false)) throw new UploadNotFoundException(part.UploadId);
                var delta = new StatsDelta();
                await ReferenceAsync(tx, part.Chunks, delta, ct).ConfigureAwait(false);
                if (collectionEpoch is { } epoch) await CheckRemovalsAsync(tx, part.Chunks, epoch, delta.ChunkCount > 0, ct).ConfigureAwait(false);
                byte[]? previous;
                using (var select = tx.Command("SELECT chunks FROM {S}.parts WHERE upload_id = @id AND part_number = @number;").Text("@id", part.UploadId).Int("@number", part.Part.PartNumber))
                {
                    previous = await select.ExecuteScalarAsync(ct).ConfigureAwait(false) as byte[];
                }

                if (previous is not null) await ReleaseAsync(tx, ChunkListCodec.Decode(previous), request.Now, delta, ct).ConfigureAwait(false);
                using (var upsert = tx.Command(
                    """
                    INSERT INTO {S}.parts (upload_id, part_number, etag, size, content_hash, uploaded, chunks)
                    VALUES (@upload, @number, @etag, @size, @hash, @uploaded, @chunks)
                    ON CONFLICT (upload_id, part_number) DO UPDATE SET etag = excluded.etag, size = excluded.size, content_hash = excluded.content_hash,
                        uploaded = excluded.uploaded, chunks = excluded.chunks;
                    """)
                    .Text("@upload", part.UploadId)
                    .Int("@number", part.Part.PartNumber)
                    .Text("@etag", part.Part.ETag)
                    .Long("@size", part.Part.Size)
                    .Text("@hash", part.Part.ContentHash)
                    .Long("@uploaded", Ticks(part.Part.UploadedOn))
                    .Bytes("@chunks", ChunkListCodec.Encode(part.Chunks)))
                {
                    await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UploadedPart>> ListPartsAsync(string uploadId, int afterPartNumber, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync<(string UploadId, int After, int Limit), IReadOnlyList<UploadedPart>>(
            (uploadId, afterPartNumber, limit),
            static async (tx, query, ct) =>
            {
                if (!await UploadExistsAsync(tx, query.UploadId, ct).ConfigureAwait(false)) throw new UploadNotFoundException(query.UploadId);
                var parts = new List<UploadedPart>();
                using var command = tx.Command(
                    "SELECT part_number, etag, size, content_hash, uploaded FROM {S}.parts WHERE upload_id = @id AND part_number > @after ORDER BY part_number LIMIT @limit;")
                    .Text("@id", query.UploadId)
                    .Int("@after", query.After)
                    .Int("@limit", query.Limit);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) parts.Add(ReadPart(reader, 0));
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
            static async (tx, container, ct) =>
            {
                var containerId = await ContainerIdAsync(tx, container, ct).ConfigureAwait(false);
                var uploads = new List<MultipartUpload>();
                using var command = tx.Command(
                    $"SELECT {UploadColumns} FROM {{S}}.uploads u JOIN {{S}}.containers c ON c.id = u.container_id WHERE u.container_id = @container ORDER BY u.name, u.started, u.id;")
                    .Long("@container", containerId);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) uploads.Add(ReadUpload(reader));
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
            static async (tx, completion, ct) =>
            {
                var upload = await FindUploadAsync(tx, completion.UploadId, ct).ConfigureAwait(false) ?? throw new UploadNotFoundException(completion.UploadId);
                var stored = new Dictionary<int, (UploadedPart Part, ChunkReference[] Chunks)>();
                using (var command = tx.Command("SELECT part_number, etag, size, content_hash, uploaded, chunks FROM {S}.parts WHERE upload_id = @id;").Text("@id", upload.UploadId))
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) stored[reader.GetInt32(0)] = (ReadPart(reader, 0), ChunkListCodec.Decode(reader.Bytes(5)));
                }

                var (chunks, contentHash, size) = MultipartAssembly.Assemble(completion, upload.UploadId, stored);

                var containerId = await ContainerIdAsync(tx, upload.Container, ct).ConfigureAwait(false);
                var name = Utf8(upload.Name);
                var current = await ReadBlobAsync(tx, containerId, upload.Container, name, ct).ConfigureAwait(false);
                upload.Conditions?.Check(upload.Container, upload.Name, current?.Properties.ETag, current?.Properties.LastModified);

                // The named parts' references move to the blob as they are; only what is left behind is released.
                var delta = new StatsDelta { Writes = 1, BytesWritten = size };
                var named = completion.Parts.Select(p => p.PartNumber).ToHashSet();
                var unnamed = stored.Where(p => !named.Contains(p.Key)).SelectMany(p => p.Value.Chunks).ToList();
                await ReleaseAsync(tx, unnamed, completion.Now, delta, ct).ConfigureAwait(false);
                if (current is { } old) await ReleaseVersionAsync(tx, old, completion.Now, delta, ct).ConfigureAwait(false);
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
                await WriteBlobAsync(tx, containerId, name, blob, inlineId: null, ct).ConfigureAwait(false);
                using (var delete = tx.Command("DELETE FROM {S}.parts WHERE upload_id = @id; DELETE FROM {S}.uploads WHERE id = @id;").Text("@id", upload.UploadId))
                {
                    await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await AdjustContainerAsync(tx, containerId, current is null ? 1 : 0, size - (current?.Properties.Size ?? 0), ct).ConfigureAwait(false);
                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
                await NotifyAsync(tx, upload.Container, upload.Name, ct).ConfigureAwait(false);
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
            static async (tx, request, ct) =>
            {
                if (!await UploadExistsAsync(tx, request.UploadId, ct).ConfigureAwait(false)) throw new UploadNotFoundException(request.UploadId);
                var delta = new StatsDelta();
                await DropUploadAsync(tx, request.UploadId, request.Now, delta, ct).ConfigureAwait(false);
                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> GetStaleMultipartUploadsAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync<(DateTimeOffset Before, int Limit), IReadOnlyList<string>>(
            (startedBefore, limit),
            static async (tx, query, ct) =>
            {
                var ids = new List<string>();
                using var command = tx.Command("SELECT id FROM {S}.uploads WHERE started < @before ORDER BY started LIMIT @limit;")
                    .Long("@before", Ticks(query.Before))
                    .Int("@limit", query.Limit);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) ids.Add(reader.GetString(0));
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
        var pageSize = EnumerationPageSize;
        while (true)
        {
            var page = await ReadAsync(
                (After: after, PageSize: pageSize),
                static async (tx, query, ct) =>
                {
                    var rows = new List<PartRecord>(query.PageSize);
                    using var command = tx.Command(
                        """
                        SELECT upload_id, part_number, etag, size, content_hash, uploaded, chunks FROM {S}.parts
                        WHERE (upload_id, part_number) > (@upload, @number) ORDER BY upload_id, part_number LIMIT @limit;
                        """)
                        .Text("@upload", query.After.Upload)
                        .Int("@number", query.After.Number)
                        .Int("@limit", query.PageSize);
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(new PartRecord(reader.GetString(0), ReadPart(reader, 1), ChunkListCodec.Decode(reader.Bytes(6))));
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
    private static async Task DropUploadAsync(PgTx tx, string uploadId, DateTimeOffset now, StatsDelta delta, CancellationToken ct)
    {
        var released = new List<ChunkReference>();
        using (var command = tx.Command("SELECT chunks FROM {S}.parts WHERE upload_id = @id;").Text("@id", uploadId))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) released.AddRange(ChunkListCodec.Decode(reader.Bytes(0)));
        }

        await ReleaseAsync(tx, released, now, delta, ct).ConfigureAwait(false);
        using var delete = tx.Command("DELETE FROM {S}.parts WHERE upload_id = @id; DELETE FROM {S}.uploads WHERE id = @id;").Text("@id", uploadId);
        await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<bool> UploadExistsAsync(PgTx tx, string uploadId, CancellationToken ct)
    {
        using var command = tx.Command("SELECT 1 FROM {S}.uploads WHERE id = @id;").Text("@id", uploadId);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null;
    }

    private static async Task<MultipartUpload?> FindUploadAsync(PgTx tx, string uploadId, CancellationToken ct)
    {
        using var command = tx.Command($"SELECT {UploadColumns} FROM {{S}}.uploads u JOIN {{S}}.containers c ON c.id = u.container_id WHERE u.id = @id;").Text("@id", uploadId);
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadUpload(reader) : null;
    }

    private static MultipartUpload ReadUpload(NpgsqlDataReader reader)
    {
        BlobRequestConditions? conditions = null;
        if (!reader.IsDBNull(7) || !reader.IsDBNull(8) || !reader.IsDBNull(9) || !reader.IsDBNull(10))
        {
            conditions = new BlobRequestConditions
            {
                IfMatch = reader.NullableString(7),
                IfNoneMatch = reader.NullableString(8),
                IfModifiedSince = reader.IsDBNull(9) ? null : Time(reader.GetInt64(9)),
                IfUnmodifiedSince = reader.IsDBNull(10) ? null : Time(reader.GetInt64(10)),
            };
        }

        return new MultipartUpload
        {
            UploadId = reader.GetString(0),
            Container = reader.GetString(1),
            Name = Encoding.UTF8.GetString(reader.Bytes(2)),
            ContentType = reader.GetString(3),
            StorageClass = (StorageClass)reader.GetInt32(4),
            Tags = ReadMap(reader, 5),
            Metadata = ReadMap(reader, 6),
            Conditions = conditions,
            StartedOn = Time(reader.GetInt64(11)),
            PartCount = checked((int)reader.GetInt64(12)),
            BytesUploaded = reader.GetInt64(13),
        };
    }

    private static UploadedPart ReadPart(NpgsqlDataReader reader, int first) => new()
    {
        PartNumber = reader.GetInt32(first),
        ETag = reader.GetString(first + 1),
        Size = reader.GetInt64(first + 2),
        ContentHash = reader.GetString(first + 3),
        UploadedOn = Time(reader.GetInt64(first + 4)),
    };
}
