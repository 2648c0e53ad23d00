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

    /// <inheritdoc />
    public ValueTask CreateMultipartUploadAsync(MultipartUpload upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return new ValueTask(WriteAsync(
            (session, tx) =>
            {
                var containerId = ContainerId(session, tx, upload.Container);
                var insert = session.Command(
                    """
                    INSERT INTO uploads (id, container_id, name, content_type, storage_class, tags, metadata, if_match, if_none_match, if_modified_since, if_unmodified_since, started)
                    VALUES (@id, @container, @name, @type, @class, @tags, @metadata, @if_match, @if_none_match, @if_modified_since, @if_unmodified_since, @started);
                    """,
                    tx);
                With(insert, "@id", upload.UploadId);
                With(insert, "@container", containerId);
                With(insert, "@name", NameBytes(upload.Name));
                With(insert, "@type", upload.ContentType);
                With(insert, "@class", (int)upload.StorageClass);
                With(insert, "@tags", ToJson(upload.Tags));
                With(insert, "@metadata", ToJson(upload.Metadata));
                With(insert, "@if_match", upload.Conditions?.IfMatch);
                With(insert, "@if_none_match", upload.Conditions?.IfNoneMatch);
                With(insert, "@if_modified_since", upload.Conditions?.IfModifiedSince is { } since ? Ticks(since) : null);
                With(insert, "@if_unmodified_since", upload.Conditions?.IfUnmodifiedSince is { } until ? Ticks(until) : null);
                With(insert, "@started", Ticks(upload.StartedOn));
                insert.ExecuteNonQuery();
                return true;
            },
            cancellationToken).AsTask());
    }

    /// <inheritdoc />
    public ValueTask<MultipartUpload?> GetMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default) =>
        ReadAsync(session => FindUpload(session, null, uploadId), cancellationToken);

    /// <inheritdoc />
    public ValueTask CommitPartAsync(PartRecord part, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(part);
        return new ValueTask(WriteAsync(
            (session, tx) =>
            {
                if (With(session.Command("SELECT 1 FROM uploads WHERE id = @id;", tx), "@id", part.UploadId).ExecuteScalar() is null)
                {
                    throw new UploadNotFoundException(part.UploadId);
                }

                var delta = new StatsDelta();
                AddReferences(session, tx, part.Chunks, delta);
                var previous = PartChunks(session, tx, part.UploadId, part.Part.PartNumber);
                if (previous is not null) Release(session, tx, previous, now, delta);
                var upsert = session.Command(
                    """
                    INSERT OR REPLACE INTO parts (upload_id, part_number, etag, size, content_hash, uploaded, chunks)
                    VALUES (@upload, @number, @etag, @size, @hash, @uploaded, @chunks);
                    """,
                    tx);
                With(upsert, "@upload", part.UploadId);
                With(upsert, "@number", part.Part.PartNumber);
                With(upsert, "@etag", part.Part.ETag);
                With(upsert, "@size", part.Part.Size);
                With(upsert, "@hash", part.Part.ContentHash);
                With(upsert, "@uploaded", Ticks(part.Part.UploadedOn));
                With(upsert, "@chunks", ChunkListCodec.Encode(part.Chunks));
                upsert.ExecuteNonQuery();
                ApplyStats(session, tx, delta);
                return true;
            },
            cancellationToken).AsTask());
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UploadedPart>> ListPartsAsync(string uploadId, int afterPartNumber, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<UploadedPart>>(
            session =>
            {
                using var transaction = session.Connection.BeginTransaction(deferred: true);
                if (With(session.Command("SELECT 1 FROM uploads WHERE id = @id;", transaction), "@id", uploadId).ExecuteScalar() is null)
                {
                    throw new UploadNotFoundException(uploadId);
                }

                var command = session.Command(
                    "SELECT part_number, etag, size, content_hash, uploaded FROM parts WHERE upload_id = @id AND part_number > @after ORDER BY part_number LIMIT @limit;",
                    transaction);
                With(command, "@id", uploadId);
                With(command, "@after", afterPartNumber);
                With(command, "@limit", limit);
                var parts = new List<UploadedPart>();
                using var reader = command.ExecuteReader();
                while (reader.Read()) parts.Add(ReadPart(reader, 0));
                return parts;
            },
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<MultipartUpload>> ListMultipartUploadsAsync(string container, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<MultipartUpload>>(
            session =>
            {
                using var transaction = session.Connection.BeginTransaction(deferred: true);
                var containerId = ContainerId(session, transaction, container);
                var command = session.Command(
                    $"SELECT {UploadColumns} FROM uploads u JOIN containers c ON c.id = u.container_id WHERE u.container_id = @container ORDER BY u.name, u.started, u.id;",
                    transaction);
                With(command, "@container", containerId);
                var uploads = new List<MultipartUpload>();
                using var reader = command.ExecuteReader();
                while (reader.Read()) uploads.Add(ReadUpload(reader));
                return uploads;
            },
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<BlobRecord> CompleteMultipartUploadAsync(MultipartCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(completion);
        return WriteAsync(
            (session, tx) =>
            {
                var upload = FindUpload(session, tx, completion.UploadId) ?? throw new UploadNotFoundException(completion.UploadId);
                var stored = new Dictionary<int, (UploadedPart Part, ChunkReference[] Chunks)>();
                using (var reader = With(session.Command("SELECT part_number, etag, size, content_hash, uploaded, chunks FROM parts WHERE upload_id = @id;", tx), "@id", upload.UploadId).ExecuteReader())
                {
                    while (reader.Read()) stored[reader.GetInt32(0)] = (ReadPart(reader, 0), ChunkListCodec.Decode((byte[])reader[5]));
                }

                var chunks = new List<ChunkReference>();
                var hashes = new List<string>(completion.Parts.Count);
                long size = 0;
                for (var i = 0; i < completion.Parts.Count; i++)
                {
                    var given = completion.Parts[i];
                    if (!stored.TryGetValue(given.PartNumber, out var part))
                    {
                        throw new InvalidPartException($"Part {given.PartNumber} was never uploaded to upload '{upload.UploadId}'.", given.PartNumber);
                    }

                    if (!ETagsEqual(given.ETag, part.Part.ETag))
                    {
                        throw new InvalidPartException($"Part {given.PartNumber} of upload '{upload.UploadId}' has ETag {part.Part.ETag}, not {given.ETag}: it was replaced or the ETag is wrong.", given.PartNumber);
                    }

                    if (i < completion.Parts.Count - 1 && part.Part.Size < completion.MinimumPartSize)
                    {
                        throw new InvalidPartException($"Part {given.PartNumber} of upload '{upload.UploadId}' holds {part.Part.Size} bytes; every part but the last must hold at least {completion.MinimumPartSize}.", given.PartNumber);
                    }

                    chunks.AddRange(part.Chunks);
                    hashes.Add(part.Part.ContentHash);
                    size += part.Part.Size;
                }

                var containerId = ContainerId(session, tx, upload.Container);
                var current = ReadBlob(session, tx, containerId, upload.Container, NameBytes(upload.Name));
                upload.Conditions?.Check(upload.Container, upload.Name, current?.Properties.ETag, current?.Properties.LastModified);

                // The named parts' references move to the blob as they are; only what is left behind is released.
                var delta = new StatsDelta { Writes = 1, BytesWritten = size };
                var named = completion.Parts.Select(p => p.PartNumber).ToHashSet();
                foreach (var (number, part) in stored)
                {
                    if (!named.Contains(number)) Release(session, tx, part.Chunks, completion.Now, delta);
                }

                if (current is not null) ReleaseVersion(session, tx, containerId, current, completion.Now, delta);
                var contentHash = MultipartHash.Composite(hashes);
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
                Upsert(session, tx, containerId, blob, inlineId: null);
                With(session.Command("DELETE FROM parts WHERE upload_id = @id;", tx), "@id", upload.UploadId).ExecuteNonQuery();
                With(session.Command("DELETE FROM uploads WHERE id = @id;", tx), "@id", upload.UploadId).ExecuteNonQuery();
                AdjustContainer(session, tx, containerId, current is null ? 1 : 0, size - (current?.Properties.Size ?? 0));
                ApplyStats(session, tx, delta);
                return blob;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask AbortMultipartUploadAsync(string uploadId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        new(WriteAsync(
            (session, tx) =>
            {
                if (With(session.Command("SELECT 1 FROM uploads WHERE id = @id;", tx), "@id", uploadId).ExecuteScalar() is null)
                {
                    throw new UploadNotFoundException(uploadId);
                }

                var delta = new StatsDelta();
                DropUpload(session, tx, uploadId, now, delta);
                ApplyStats(session, tx, delta);
                return true;
            },
            cancellationToken).AsTask());

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> GetStaleMultipartUploadsAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<string>>(
            session =>
            {
                var command = session.Command("SELECT id FROM uploads WHERE started < @before ORDER BY started LIMIT @limit;");
                With(command, "@before", Ticks(startedBefore));
                With(command, "@limit", limit);
                var ids = new List<string>();
                using var reader = command.ExecuteReader();
                while (reader.Read()) ids.Add(reader.GetString(0));
                return ids;
            },
            cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<PartRecord> EnumeratePartsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        (string Upload, int Number) after = ("", 0);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = Read(session =>
            {
                var command = session.Command(
                    """
                    SELECT upload_id, part_number, etag, size, content_hash, uploaded, chunks FROM parts
                    WHERE (upload_id, part_number) > (@upload, @number) ORDER BY upload_id, part_number LIMIT @limit;
                    """);
                With(command, "@upload", after.Upload);
                With(command, "@number", after.Number);
                With(command, "@limit", EnumerationPage);
                var rows = new List<PartRecord>();
                using var reader = command.ExecuteReader();
                while (reader.Read()) rows.Add(new PartRecord(reader.GetString(0), ReadPart(reader, 1), ChunkListCodec.Decode((byte[])reader[6])));
                return rows;
            });
            foreach (var row in page) yield return row;
            if (page.Count < EnumerationPage) yield break;
            after = (page[^1].UploadId, page[^1].Part.PartNumber);
            await Task.Yield();
        }
    }

    /// <summary>Releases every part of an upload and forgets it.</summary>
    private static void DropUpload(SqliteSession session, SqliteTransaction tx, string uploadId, DateTimeOffset now, StatsDelta delta)
    {
        var released = new Dictionary<ChunkId, (long Count, int Length)>();
        using (var reader = With(session.Command("SELECT chunks FROM parts WHERE upload_id = @id;", tx), "@id", uploadId).ExecuteReader())
        {
            while (reader.Read()) Tally(released, ChunkListCodec.Decode((byte[])reader[0]));
        }

        Release(session, tx, released, now, delta);
        With(session.Command("DELETE FROM parts WHERE upload_id = @id;", tx), "@id", uploadId).ExecuteNonQuery();
        With(session.Command("DELETE FROM uploads WHERE id = @id;", tx), "@id", uploadId).ExecuteNonQuery();
    }

    private static ChunkReference[]? PartChunks(SqliteSession session, SqliteTransaction tx, string uploadId, int partNumber)
    {
        var command = session.Command("SELECT chunks FROM parts WHERE upload_id = @id AND part_number = @number;", tx);
        With(command, "@id", uploadId);
        With(command, "@number", partNumber);
        return command.ExecuteScalar() is byte[] bytes ? ChunkListCodec.Decode(bytes) : null;
    }

    private static MultipartUpload? FindUpload(SqliteSession session, SqliteTransaction? tx, string uploadId)
    {
        var command = session.Command($"SELECT {UploadColumns} FROM uploads u JOIN containers c ON c.id = u.container_id WHERE u.id = @id;", tx);
        With(command, "@id", uploadId);
        using var reader = command.ExecuteReader();
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
            Name = Encoding.UTF8.GetString((byte[])reader[2]),
            ContentType = reader.GetString(3),
            StorageClass = (StorageClass)reader.GetInt32(4),
            Tags = FromJson(reader, 5),
            Metadata = FromJson(reader, 6),
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

    private static bool ETagsEqual(string a, string b) => Unquote(a).SequenceEqual(Unquote(b));

    private static ReadOnlySpan<char> Unquote(string etag)
    {
        var span = etag.AsSpan().Trim();
        return span.Length >= 2 && span[0] == '"' && span[^1] == '"' ? span[1..^1] : span;
    }
}
