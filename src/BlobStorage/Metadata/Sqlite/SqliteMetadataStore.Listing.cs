using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    /// <inheritdoc />
    /// <remarks>
    /// A range on the name's bytes, never <c>LIKE</c> (case-insensitive, with wildcards). With a
    /// delimiter, a name that holds it after the prefix stands for its common prefix, and the
    /// walk jumps past every name under that prefix with a new seek.
    /// </remarks>
    public ValueTask<BlobListing> ListBlobsAsync(string container, BlobListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return ReadAsync(
            session =>
            {
                using var transaction = session.Connection.BeginTransaction(deferred: true);
                var containerId = ContainerId(session, transaction, container);
                var prefix = NameBytes(query.Prefix ?? "");
                var delimiter = string.IsNullOrEmpty(query.Delimiter) ? null : NameBytes(query.Delimiter);
                var upper = prefix.Length == 0 ? null : BlobNames.PrefixUpperBound(prefix);
                byte[]? lower = query.StartAt is { } startAt && startAt.AsSpan().SequenceCompareTo(prefix) > 0 ? startAt : prefix;

                var blobs = new List<BlobProperties>();
                var prefixes = new List<string>();
                var pageSize = query.PageSize;
                while (lower is not null && blobs.Count + prefixes.Count < pageSize)
                {
                    var command = session.Command(
                        upper is null
                            ? $"SELECT {BlobColumns} FROM blobs WHERE container_id = @container AND name >= @lower ORDER BY name LIMIT @limit;"
                            : $"SELECT {BlobColumns} FROM blobs WHERE container_id = @container AND name >= @lower AND name < @upper ORDER BY name LIMIT @limit;",
                        transaction);
                    With(command, "@container", containerId);
                    With(command, "@lower", lower);
                    if (upper is not null) With(command, "@upper", upper);
                    var limit = pageSize - blobs.Count - prefixes.Count;
                    With(command, "@limit", limit);
                    var rows = 0;
                    var jumped = false;
                    using (var reader = command.ExecuteReader())
                    {
                        while (reader.Read())
                        {
                            rows++;
                            var name = (byte[])reader[0];
                            var at = delimiter is null ? -1 : name.AsSpan(prefix.Length).IndexOf(delimiter);
                            if (at >= 0)
                            {
                                var common = name.AsSpan(0, prefix.Length + at + delimiter!.Length);
                                prefixes.Add(Encoding.UTF8.GetString(common));
                                lower = BlobNames.PrefixUpperBound(common);
                                jumped = true;
                                break;
                            }

                            blobs.Add(ReadBlobRow(reader, container).Properties);
                            lower = BlobNames.Successor(name);
                        }
                    }

                    if (!jumped && rows < limit)
                    {
                        // The query returned fewer rows than asked: the range is exhausted.
                        lower = null;
                    }
                }

                byte[]? next = null;
                if (lower is not null)
                {
                    var probe = session.Command(
                        upper is null
                            ? "SELECT 1 FROM blobs WHERE container_id = @container AND name >= @lower LIMIT 1;"
                            : "SELECT 1 FROM blobs WHERE container_id = @container AND name >= @lower AND name < @upper LIMIT 1;",
                        transaction);
                    With(probe, "@container", containerId);
                    With(probe, "@lower", lower);
                    if (upper is not null) With(probe, "@upper", upper);
                    if (probe.ExecuteScalar() is not null) next = lower;
                }

                return new BlobListing { Blobs = blobs, CommonPrefixes = prefixes, NextStartAt = next };
            },
            cancellationToken);
    }
}
