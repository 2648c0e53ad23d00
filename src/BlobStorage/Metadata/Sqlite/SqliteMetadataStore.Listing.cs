using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using SQLitePCL;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    // The columns of a listed row, in this order; tags and metadata are selected as NULL unless asked for.
    private const int ListName = 0;
    private const int ListVersion = 1;
    private const int ListSize = 2;
    private const int ListContentType = 3;
    private const int ListETag = 4;
    private const int ListContentHash = 5;
    private const int ListStorageClass = 6;
    private const int ListCreated = 7;
    private const int ListModified = 8;
    private const int ListAccessCount = 9;
    private const int ListLastAccessed = 10;
    private const int ListPartCount = 11;
    private const int ListTags = 12;
    private const int ListMetadata = 13;

    private const string ListContainerSql = "SELECT id FROM containers WHERE name = ?1;";

    // The listing statements, by the traits asked for and whether the range has an upper bound. A
    // trait not asked for is selected as NULL: its column is neither copied out nor parsed.
    // A range on the name's bytes, never LIKE: LIKE ignores ASCII case and treats '%' and '_' as wildcards.
    // Parameters: ?1 container id, ?2 lower bound (inclusive), ?3 row limit, ?4 upper bound (exclusive).
    private static readonly string[] ListSql = ListStatements();

    private static string[] ListStatements()
    {
        var statements = new string[((int)BlobListTraits.All + 1) * 2];
        for (var include = BlobListTraits.None; include <= BlobListTraits.All; include++)
        {
            var tags = (include & BlobListTraits.Tags) != 0 ? "tags" : "NULL";
            var metadata = (include & BlobListTraits.Metadata) != 0 ? "metadata" : "NULL";
            var columns = $"name, version_id, size, content_type, etag, content_hash, storage_class, created, modified, access_count, last_accessed, part_count, {tags}, {metadata}";
            statements[(int)include * 2] =
                $"SELECT {columns} FROM blobs WHERE container_id = ?1 AND name >= ?2 ORDER BY name LIMIT ?3;";
            statements[((int)include * 2) + 1] =
                $"SELECT {columns} FROM blobs WHERE container_id = ?1 AND name >= ?2 AND name < ?4 ORDER BY name LIMIT ?3;";
        }

        return statements;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The page is read from one snapshot. With a delimiter, a name that holds it after the prefix
    /// stands for its common prefix, and the walk seeks past every name under that prefix instead of
    /// reading them. The next page's start is a key (the successor of the last name, or the upper
    /// bound of the last common prefix), not an offset, so it stays right while blobs come and go.
    /// </remarks>
    public ValueTask<BlobListing> ListBlobsAsync(string container, BlobListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(query);
        if (query.PageSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.PageSize, "query.PageSize must be at least 1.");
        }

        if ((query.Include & ~BlobListTraits.All) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Include, "query.Include takes only BlobListTraits.Metadata and BlobListTraits.Tags.");
        }

        return ReadAsync((Container: container, Query: query), static (session, request) => List(session, request.Container, request.Query), snapshot: true, cancellationToken);
    }

    /// <remarks>
    /// The hot path of a listing: its statements are stepped on the connection's handle with
    /// SQLitePCLRaw, each column read once, in place (a name is examined as the bytes SQLite holds and
    /// decoded once); Microsoft.Data.Sqlite's reader cost more per row than the query itself.
    /// </remarks>
    private static BlobListing List(SqliteSession session, string container, BlobListQuery query)
    {
        var containerId = ListContainerId(session, container);
        var prefix = Utf8(query.Prefix ?? "");
        var delimiter = string.IsNullOrEmpty(query.Delimiter) ? null : Utf8(query.Delimiter);
        var upper = prefix.Length == 0 ? null : BlobNames.PrefixUpperBound(prefix);
        byte[]? lower = query.StartAt is { } startAt && startAt.AsSpan().SequenceCompareTo(prefix) > 0 ? startAt : prefix;
        var pageSize = query.PageSize;
        var statement = session.RawStatement(ListSql[((int)query.Include * 2) + (upper is null ? 0 : 1)]);
        var rows = new ListRowReader(container, query.Include);

        var blobs = new List<BlobProperties>(Math.Min(pageSize, 256));
        var prefixes = new List<string>();
        byte[]? next = null;

        // The successor of the last blob listed is made only when it is needed: once a page, not once a row.
        string? lastBlob = null;
        while (lower is not null)
        {
            // One row more than the page still holds: if it is there, there is a next page.
            var limit = pageSize - blobs.Count - prefixes.Count + 1;
            raw.sqlite3_bind_int64(statement, 1, containerId);
            raw.sqlite3_bind_blob(statement, 2, lower);
            raw.sqlite3_bind_int(statement, 3, limit);
            if (upper is not null) raw.sqlite3_bind_blob(statement, 4, upper);

            var count = 0;
            var seek = false;
            try
            {
                while (session.Step(statement))
                {
                    count++;
                    if (blobs.Count + prefixes.Count == pageSize)
                    {
                        next = lastBlob is null ? lower : BlobNames.Successor(Utf8(lastBlob));
                        break;
                    }

                    // Valid until the next step; examined in place.
                    var name = raw.sqlite3_column_blob(statement, ListName);
                    var at = delimiter is null ? -1 : name[prefix.Length..].IndexOf(delimiter);
                    if (at >= 0)
                    {
                        var common = name[..(prefix.Length + at + delimiter!.Length)];
                        prefixes.Add(Encoding.UTF8.GetString(common));
                        lastBlob = null;
                        lower = BlobNames.PrefixUpperBound(common);
                        seek = true;
                        break;
                    }

                    lastBlob = Encoding.UTF8.GetString(name);
                    blobs.Add(rows.Read(statement, lastBlob));
                }
            }
            finally
            {
                raw.sqlite3_reset(statement);
            }

            // Fewer rows than asked, and no jump to make: the range is exhausted and this is the last page.
            if (next is not null || (!seek && count < limit)) break;
        }

        return new BlobListing { Blobs = blobs, CommonPrefixes = prefixes, NextStartAt = next };
    }

    private static long ListContainerId(SqliteSession session, string name)
    {
        var statement = session.RawStatement(ListContainerSql);
        try
        {
            raw.sqlite3_bind_text(statement, 1, name);
            return session.Step(statement) ? raw.sqlite3_column_int64(statement, 0) : throw new ContainerNotFoundException(name);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>Turns listed rows into properties; the strings most rows share (the content type) are made once a page.</summary>
    private struct ListRowReader(string container, BlobListTraits include)
    {
        private byte[]? _contentTypeBytes;
        private string? _contentType;

        public BlobProperties Read(sqlite3_stmt row, string name) => new()
        {
            Container = container,
            Name = name,
            VersionId = Text(row, ListVersion),
            Size = raw.sqlite3_column_int64(row, ListSize),
            ContentType = ContentType(row),
            ETag = Text(row, ListETag),
            ContentHash = Text(row, ListContentHash),
            StorageClass = (StorageClass)raw.sqlite3_column_int(row, ListStorageClass),
            CreatedOn = Time(raw.sqlite3_column_int64(row, ListCreated)),
            LastModified = Time(raw.sqlite3_column_int64(row, ListModified)),
            AccessCount = raw.sqlite3_column_int64(row, ListAccessCount),
            LastAccessedOn = raw.sqlite3_column_type(row, ListLastAccessed) == raw.SQLITE_NULL ? null : Time(raw.sqlite3_column_int64(row, ListLastAccessed)),
            PartCount = raw.sqlite3_column_int(row, ListPartCount),
            Tags = (include & BlobListTraits.Tags) != 0 ? Map(row, ListTags) : MetadataRules.Empty,
            Metadata = (include & BlobListTraits.Metadata) != 0 ? Map(row, ListMetadata) : MetadataRules.Empty,
        };

        // sqlite3_column_blob on a TEXT value gives its UTF-8 bytes as stored, without conversion.
        private static string Text(sqlite3_stmt row, int column) => Encoding.UTF8.GetString(raw.sqlite3_column_blob(row, column));

        private static IReadOnlyDictionary<string, string> Map(sqlite3_stmt row, int column) =>
            raw.sqlite3_column_type(row, column) == raw.SQLITE_NULL ? MetadataRules.Empty : JsonMap.Parse(raw.sqlite3_column_blob(row, column));

        private string ContentType(sqlite3_stmt row)
        {
            var bytes = raw.sqlite3_column_blob(row, ListContentType);
            if (_contentType is null || !bytes.SequenceEqual(_contentTypeBytes))
            {
                _contentTypeBytes = bytes.ToArray();
                _contentType = Encoding.UTF8.GetString(bytes);
            }

            return _contentType;
        }
    }
}
