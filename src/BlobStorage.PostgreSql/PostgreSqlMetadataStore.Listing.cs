using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.PostgreSql.Internal;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore
{
    /// <inheritdoc />
    /// <remarks>
    /// The page is read from one snapshot (REPEATABLE READ). Names are bytea, so the range on them is byte-wise (ordinal),
    /// never LIKE. With a delimiter, a name that holds it after the prefix stands for its common prefix, and the walk
    /// seeks past every name under that prefix instead of reading them. The next page starts at a key, not an offset.
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

        return ReadAsync((Container: container, Query: query), static (tx, request, ct) => ListAsync(tx, request.Container, request.Query, ct), snapshot: true, cancellationToken);
    }

    private static async Task<BlobListing> ListAsync(PgTx tx, string container, BlobListQuery query, CancellationToken ct)
    {
        var containerId = await ContainerIdAsync(tx, container, ct).ConfigureAwait(false);
        var prefix = Utf8(query.Prefix ?? "");
        var delimiter = string.IsNullOrEmpty(query.Delimiter) ? null : Utf8(query.Delimiter);
        var upper = prefix.Length == 0 ? null : BlobNames.PrefixUpperBound(prefix);
        byte[]? lower = query.StartAt is { } startAt && startAt.AsSpan().SequenceCompareTo(prefix) > 0 ? startAt : prefix;
        var pageSize = query.PageSize;
        var sql = upper is null
            ? $"SELECT {PropertyColumns} FROM {{S}}.blobs b WHERE b.container_id = @container AND b.name >= @lower ORDER BY b.name LIMIT @limit;"
            : $"SELECT {PropertyColumns} FROM {{S}}.blobs b WHERE b.container_id = @container AND b.name >= @lower AND b.name < @upper ORDER BY b.name LIMIT @limit;";

        var blobs = new List<BlobProperties>(Math.Min(pageSize, 256));
        var prefixes = new List<string>();
        byte[]? next = null;
        byte[]? lastBlob = null;
        while (lower is not null)
        {
            var seek = false;
            var limit = pageSize - blobs.Count - prefixes.Count + 1;
            using (var command = tx.Command(sql).Long("@container", containerId).Bytes("@lower", lower).Int("@limit", limit))
            {
                if (upper is not null) command.Bytes("@upper", upper);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    // A row beyond a full page: there is a next page, and it starts here.
                    if (blobs.Count + prefixes.Count == pageSize)
                    {
                        next = lastBlob is null ? lower : BlobNames.Successor(lastBlob);
                        break;
                    }

                    var name = reader.Bytes(0);
                    var at = delimiter is null ? -1 : name.AsSpan(prefix.Length).IndexOf(delimiter);
                    if (at >= 0)
                    {
                        var common = name.AsSpan(0, prefix.Length + at + delimiter!.Length);
                        prefixes.Add(Encoding.UTF8.GetString(common));
                        lastBlob = null;
                        lower = BlobNames.PrefixUpperBound(common);
                        seek = true;
                        break;
                    }

                    lastBlob = name;
                    blobs.Add(ReadProperties(reader, 0, container, query.Include));
                }
            }

            // A full page, or the range ran out with no jump to make: this was the last page.
            if (next is not null || !seek) break;
        }

        return new BlobListing { Blobs = blobs, CommonPrefixes = prefixes, NextStartAt = next };
    }
}
