using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    // The listing statements, by the traits asked for and whether the range has an upper bound. The
    // columns are PropertyColumns', but a trait not asked for is selected as NULL: its column is
    // neither copied out nor parsed, and the row reads as a blob without tags or metadata.
    // A range on the name's bytes, never LIKE: LIKE ignores ASCII case and treats '%' and '_' as wildcards.
    // No LIMIT: the walk stops itself one row past a full page. SQLite's planner reads a LIMIT's bound
    // value, so binding one expires the statement and every run would compile it again.
    private static readonly string[] ListSql = ListStatements();

    private static string[] ListStatements()
    {
        var statements = new string[((int)BlobListTraits.All + 1) * 2];
        for (var include = BlobListTraits.None; include <= BlobListTraits.All; include++)
        {
            var tags = (include & BlobListTraits.Tags) != 0 ? "tags" : "NULL";
            var metadata = (include & BlobListTraits.Metadata) != 0 ? "metadata" : "NULL";
            var columns = $"name, properties, {tags}, {metadata}";
            statements[(int)include * 2] =
                $"SELECT {columns} FROM blobs WHERE container_id = @container AND name >= @lower ORDER BY name;";
            statements[((int)include * 2) + 1] =
                $"SELECT {columns} FROM blobs WHERE container_id = @container AND name >= @lower AND name < @upper ORDER BY name;";
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
    /// The hot path of a listing runs through SQLite's own API (<see cref="SqliteStatement"/>): a name
    /// is examined as the bytes SQLite holds and decoded once; Microsoft.Data.Sqlite's reader cost more
    /// per row than the query itself.
    /// </remarks>
    private static BlobListing List(SqliteSession session, string container, BlobListQuery query)
    {
        var containerId = ContainerId(session, container);
        var prefix = Utf8(query.Prefix ?? "");
        var delimiter = string.IsNullOrEmpty(query.Delimiter) ? null : Utf8(query.Delimiter);
        var upper = prefix.Length == 0 ? null : BlobNames.PrefixUpperBound(prefix);
        byte[]? lower = query.StartAt is { } startAt && startAt.AsSpan().SequenceCompareTo(prefix) > 0 ? startAt : prefix;
        var pageSize = query.PageSize;
        var statement = session.Statement(ListSql[((int)query.Include * 2) + (upper is null ? 0 : 1)]);

        var blobs = new List<BlobProperties>(Math.Min(pageSize, 256));
        var prefixes = new List<string>();
        byte[]? next = null;

        // The successor of the last blob listed is made only when it is needed: once a page, not once a row.
        string? lastBlob = null;
        while (lower is not null)
        {
            statement.BindInt64("@container", containerId);
            statement.BindBlob("@lower", lower);
            if (upper is not null) statement.BindBlob("@upper", upper);

            var seek = false;
            try
            {
                while (statement.Step())
                {
                    // A row beyond a full page: there is a next page, and it starts here.
                    if (blobs.Count + prefixes.Count == pageSize)
                    {
                        next = lastBlob is null ? lower : BlobNames.Successor(Utf8(lastBlob));
                        break;
                    }

                    // Valid until the next step; examined in place.
                    var row = statement.Row;
                    var name = row.GetBlob(0);
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
                    blobs.Add(ReadProperties(row, 0, container, lastBlob, query.Include));
                }
            }
            finally
            {
                statement.Reset();
            }

            // A full page, or the range ran out with no jump to make: this was the last page.
            if (next is not null || !seek) break;
        }

        return new BlobListing { Blobs = blobs, CommonPrefixes = prefixes, NextStartAt = next };
    }
}
