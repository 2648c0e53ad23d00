using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    // The listing statements, by the traits asked for and whether the range has an upper bound. A
    // trait not asked for is selected as NULL: its column is neither copied out nor parsed.
    // A range on the name's bytes, never LIKE: LIKE ignores ASCII case and treats '%' and '_' as wildcards.
    private static readonly string[] ListSql = ListStatements();

    private static string[] ListStatements()
    {
        var statements = new string[((int)BlobListTraits.All + 1) * 2];
        for (var include = BlobListTraits.None; include <= BlobListTraits.All; include++)
        {
            var tags = (include & BlobListTraits.Tags) != 0 ? "tags" : "NULL";
            var metadata = (include & BlobListTraits.Metadata) != 0 ? "metadata" : "NULL";
            var columns = $"name, version_id, size, content_type, etag, content_hash, storage_class, created, modified, access_count, last_accessed, {tags}, {metadata}, part_count";
            statements[(int)include * 2] =
                $"SELECT {columns} FROM blobs WHERE container_id = @container AND name >= @lower ORDER BY name LIMIT @limit;";
            statements[((int)include * 2) + 1] =
                $"SELECT {columns} FROM blobs WHERE container_id = @container AND name >= @lower AND name < @upper ORDER BY name LIMIT @limit;";
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

    private static BlobListing List(SqliteSession session, string container, BlobListQuery query)
    {
        var containerId = ContainerId(session, container);
        var prefix = Utf8(query.Prefix ?? "");
        var delimiter = string.IsNullOrEmpty(query.Delimiter) ? null : Utf8(query.Delimiter);
        var upper = prefix.Length == 0 ? null : BlobNames.PrefixUpperBound(prefix);
        byte[]? lower = query.StartAt is { } startAt && startAt.AsSpan().SequenceCompareTo(prefix) > 0 ? startAt : prefix;
        var pageSize = query.PageSize;
        var sql = ListSql[((int)query.Include * 2) + (upper is null ? 0 : 1)];

        var blobs = new List<BlobProperties>(Math.Min(pageSize, 256));
        var prefixes = new List<string>();
        byte[]? next = null;

        // The successor of the last blob listed is made only when it is needed: once a page, not once a row.
        string? lastBlob = null;
        while (lower is not null)
        {
            // One row more than the page still holds: if it is there, there is a next page.
            var limit = pageSize - blobs.Count - prefixes.Count + 1;
            var command = session.Command(sql)
                .Set("@container", containerId)
                .Set("@lower", lower)
                .Set("@limit", limit);
            if (upper is not null) command.Set("@upper", upper);

            var rows = 0;
            var seek = false;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows++;
                    if (blobs.Count + prefixes.Count == pageSize)
                    {
                        next = lastBlob is null ? lower : BlobNames.Successor(Utf8(lastBlob));
                        break;
                    }

                    var name = ReadName(reader, 0, session);
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
                    blobs.Add(ReadProperties(reader, 0, container, lastBlob));
                }
            }

            // Fewer rows than asked, and no jump to make: the range is exhausted and this is the last page.
            if (next is not null || (!seek && rows < limit)) break;
        }

        return new BlobListing { Blobs = blobs, CommonPrefixes = prefixes, NextStartAt = next };
    }

    /// <summary>The name column of the current row.</summary>
    /// <remarks>
    /// Not through <c>GetBytes</c>: Microsoft.Data.Sqlite serves that through a blob stream, which
    /// costs about ten times a plain column read; listing 100 names spent most of its time there.
    /// </remarks>
#pragma warning disable IDE0060 // The session is kept in the signature for callers that pass it.
    private static ReadOnlySpan<byte> ReadName(SqliteDataReader reader, int ordinal, SqliteSession session) => reader.GetFieldValue<byte[]>(ordinal);
#pragma warning restore IDE0060
}
