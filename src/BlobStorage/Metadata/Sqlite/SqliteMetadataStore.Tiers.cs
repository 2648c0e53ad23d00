using System.Text;
using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const string UpdateBlobClassSql = "UPDATE blobs SET storage_class = @class WHERE container_id = @container AND name = @name;";

    private const string PendingRehydrationsSql =
        $"""
        SELECT c.name, blobs.name, blobs.properties, blobs.tags, blobs.metadata FROM blobs JOIN containers c ON c.id = blobs.container_id
        WHERE blobs.storage_class >= 16 ORDER BY blobs.container_id, blobs.name LIMIT @limit;
        """;

    private const string UpdateContainerClassSql = "UPDATE containers SET storage_class = @class WHERE id = @id;";

    private const string SelectLifecycleRulesSql =
        "SELECT c.id, r.name, r.prefix, r.action, r.storage_class, r.days, r.basis FROM containers c LEFT JOIN lifecycle_rules r ON r.container_id = c.id WHERE c.name = @name ORDER BY r.position;";

    private const string InsertLifecycleRuleSql =
        "INSERT INTO lifecycle_rules (container_id, position, name, prefix, action, storage_class, days, basis) VALUES (@id, @position, @name, @prefix, @action, @class, @days, @basis);";

    private const string DeleteLifecycleRulesSql = "DELETE FROM lifecycle_rules WHERE container_id = @id;";

    /// <inheritdoc />
    public ValueTask<BlobRecord> SetBlobStorageClassAsync(string container, string name, StorageClass storageClass, StorageClass? rehydratingTo, BlobRequestConditions? conditions, string? expectedVersionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync(
            (Container: container, Name: name, Class: storageClass, RehydratingTo: rehydratingTo, Conditions: conditions, Version: expectedVersionId),
            static (session, request) =>
            {
                var containerId = ContainerId(session, request.Container);
                var name = Utf8(request.Name);
                var current = ReadBlob(session, containerId, request.Container, request.Name, name)
                    ?? throw new BlobNotFoundException(request.Container, request.Name);
                var p = current.Record.Properties;
                request.Conditions?.Check(request.Container, request.Name, p.ETag, p.LastModified);
                if (request.Version is { } version && version != p.VersionId)
                {
                    throw new PreconditionFailedException($"Blob '{request.Name}' in container '{request.Container}' is now version {p.VersionId}, not {version}: it was overwritten meanwhile.");
                }

                session.Command(UpdateBlobClassSql)
                    .Set("@class", StorageClassColumn.Encode(request.Class, request.RehydratingTo))
                    .Set("@container", containerId)
                    .Set("@name", name)
                    .ExecuteNonQuery();
                return current.Record with { Properties = p with { StorageClass = request.Class, RehydratingTo = request.RehydratingTo } };
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<BlobProperties>> GetPendingRehydrationsAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync<int, IReadOnlyList<BlobProperties>>(
            limit,
            static (session, limit) =>
            {
                var blobs = new List<BlobProperties>();
                using var reader = session.Command(PendingRehydrationsSql).Set("@limit", limit).ExecuteReader();
                while (reader.Read()) blobs.Add(ReadProperties(reader, 1, reader.GetString(0), name: null));
                return blobs;
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ContainerProperties> SetContainerDefaultStorageClassAsync(string container, StorageClass storageClass, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return WriteAsync(
            (Container: container, Class: storageClass),
            static (session, request) =>
            {
                var id = ContainerId(session, request.Container);
                session.Command(UpdateContainerClassSql).Set("@class", (int)request.Class).Set("@id", id).ExecuteNonQuery();
                using var reader = session.Command(SelectContainerSql).Set("@name", request.Container).ExecuteReader();
                reader.Read();
                return ReadContainer(reader);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LifecycleRule>?> GetLifecycleRulesAsync(string container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return ReadAsync<string, IReadOnlyList<LifecycleRule>?>(
            container,
            static (session, name) =>
            {
                using var reader = session.Command(SelectLifecycleRulesSql).Set("@name", name).ExecuteReader();
                List<LifecycleRule>? rules = null;
                while (reader.Read())
                {
                    rules ??= [];
                    if (reader.IsDBNull(1)) continue;
                    rules.Add(new LifecycleRule
                    {
                        Name = reader.GetString(1),
                        Prefix = reader.IsDBNull(2) ? null : Encoding.UTF8.GetString((byte[])reader.GetValue(2)),
                        Action = (LifecycleAction)reader.GetInt32(3),
                        StorageClass = reader.IsDBNull(4) ? null : (StorageClass)reader.GetInt32(4),
                        DaysAfter = reader.GetInt32(5),
                        Basis = (LifecycleBasis)reader.GetInt32(6),
                    });
                }

                return rules;
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask SetLifecycleRulesAsync(string container, IReadOnlyList<LifecycleRule> rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(rules);
        return WriteAsync(
            (Container: container, Rules: rules),
            static (session, request) =>
            {
                var id = ContainerId(session, request.Container);
                DeleteLifecycleRules(session, id);
                for (var i = 0; i < request.Rules.Count; i++)
                {
                    var rule = request.Rules[i];
                    session.Command(InsertLifecycleRuleSql)
                        .Set("@id", id)
                        .Set("@position", i)
                        .Set("@name", rule.Name)
                        .Set("@prefix", string.IsNullOrEmpty(rule.Prefix) ? null : Utf8(rule.Prefix))
                        .Set("@action", (int)rule.Action)
                        .Set("@class", rule.StorageClass is { } target ? (int)target : null)
                        .Set("@days", rule.DaysAfter)
                        .Set("@basis", (int)rule.Basis)
                        .ExecuteNonQuery();
                }
            },
            cancellationToken);
    }

    private static void DeleteLifecycleRules(SqliteSession session, long containerId) =>
        session.Command(DeleteLifecycleRulesSql).Set("@id", containerId).ExecuteNonQuery();
}
