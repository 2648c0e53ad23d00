using BlobStorage.Abstractions;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.PostgreSql.Internal;
using Npgsql;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore
{
    private const string ContainerColumns = "name, storage_class, replication, access_policy, created";

    /// <inheritdoc />
    public ValueTask CreateContainerAsync(ContainerProperties container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return WriteAsync(
            container,
            static async (tx, container, ct) =>
            {
                // ON CONFLICT, not a caught unique violation: an error would abort the transaction.
                using var insert = tx.Command(
                    "INSERT INTO {S}.containers (name, storage_class, replication, access_policy, created) VALUES (@name, @class, @replication, @access, @created) ON CONFLICT (name) DO NOTHING;")
                    .Text("@name", container.Name)
                    .Int("@class", (int)container.DefaultStorageClass)
                    .Int("@replication", (int)container.ReplicationStrategy)
                    .Int("@access", (int)container.AccessPolicy)
                    .Long("@created", Ticks(container.CreatedOn));
                if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0) throw new ContainerAlreadyExistsException(container.Name);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ContainerProperties?> GetContainerAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync(name, static (tx, name, ct) => SelectContainerAsync(tx, name, ct), snapshot: false, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ContainerProperties>> ListContainersAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<bool, IReadOnlyList<ContainerProperties>>(
            false,
            static async (tx, _, ct) =>
            {
                var containers = new List<ContainerProperties>();
                using var command = tx.Command($"SELECT {ContainerColumns} FROM {{S}}.containers ORDER BY name;");
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) containers.Add(ReadContainer(reader));
                return containers;
            },
            snapshot: false,
            cancellationToken);

    /// <inheritdoc />
    public ValueTask DeleteContainerAsync(string name, bool deleteContents, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync(
            (Name: name, DeleteContents: deleteContents, Now: now),
            static async (tx, request, ct) =>
            {
                var (containerId, blobCount) = await FindContainerAsync(tx, request.Name, ct).ConfigureAwait(false) ?? throw new ContainerNotFoundException(request.Name);
                if (blobCount > 0 && !request.DeleteContents) throw new ContainerNotEmptyException(request.Name, blobCount);
                var delta = new StatsDelta();
                if (blobCount > 0)
                {
                    var released = new List<ChunkReference>();
                    var inline = new List<long>();
                    using (var command = tx.Command("SELECT chunks, inline_id FROM {S}.blobs WHERE container_id = @id;").Long("@id", containerId))
                    {
                        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                        await using var readerScope = reader.ConfigureAwait(false);
                        while (await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            released.AddRange(ChunkListCodec.Decode(reader.Bytes(0)));
                            if (!reader.IsDBNull(1)) inline.Add(reader.GetInt64(1));
                        }
                    }

                    await ReleaseAsync(tx, released, request.Now, delta, ct).ConfigureAwait(false);
                    foreach (var inlineId in inline) await ReleaseInlineAsync(tx, inlineId, delta, ct).ConfigureAwait(false);
                    using var delete = tx.Command("DELETE FROM {S}.blobs WHERE container_id = @id;").Long("@id", containerId);
                    await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    delta.Deletes += blobCount;
                }

                // An upload into a container that is gone could never complete; its parts are released with it.
                var uploads = new List<string>();
                using (var command = tx.Command("SELECT id FROM {S}.uploads WHERE container_id = @id;").Long("@id", containerId))
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false)) uploads.Add(reader.GetString(0));
                }

                foreach (var upload in uploads) await DropUploadAsync(tx, upload, request.Now, delta, ct).ConfigureAwait(false);
                using (var command = tx.Command(
                    """
                    DELETE FROM {S}.container_cdn WHERE container_id = @id;
                    DELETE FROM {S}.lifecycle_rules WHERE container_id = @id;
                    DELETE FROM {S}.containers WHERE id = @id;
                    """).Long("@id", containerId))
                {
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await ApplyStatsAsync(tx, delta, ct).ConfigureAwait(false);
                await NotifyAsync(tx, request.Name, null, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    private static async Task<ContainerProperties?> SelectContainerAsync(PgTx tx, string name, CancellationToken ct)
    {
        using var command = tx.Command($"SELECT {ContainerColumns} FROM {{S}}.containers WHERE name = @name;").Text("@name", name);
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadContainer(reader) : null;
    }

    private static ContainerProperties ReadContainer(NpgsqlDataReader reader) => new()
    {
        Name = reader.GetString(0),
        DefaultStorageClass = (StorageClass)reader.GetInt32(1),
        ReplicationStrategy = (ReplicationStrategy)reader.GetInt32(2),
        AccessPolicy = (AccessPolicy)reader.GetInt32(3),
        CreatedOn = Time(reader.GetInt64(4)),
    };

    private static async Task<(long Id, long BlobCount)?> FindContainerAsync(PgTx tx, string name, CancellationToken ct)
    {
        using var command = tx.Command("SELECT id, blob_count FROM {S}.containers WHERE name = @name;").Text("@name", name);
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    private static async Task<long> ContainerIdAsync(PgTx tx, string name, CancellationToken ct) =>
        (await FindContainerAsync(tx, name, ct).ConfigureAwait(false))?.Id ?? throw new ContainerNotFoundException(name);

    private static async Task AdjustContainerAsync(PgTx tx, long containerId, long blobs, long bytes, CancellationToken ct)
    {
        if (blobs == 0 && bytes == 0) return;
        using var command = tx.Command("UPDATE {S}.containers SET blob_count = blob_count + @blobs, total_bytes = total_bytes + @bytes WHERE id = @id;")
            .Long("@blobs", blobs).Long("@bytes", bytes).Long("@id", containerId);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<CdnConfiguration?> GetCdnConfigurationAsync(string container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return ReadAsync(
            container,
            static async (tx, name, ct) =>
            {
                using var command = tx.Command(
                    "SELECT c.id, d.enabled, d.edges, d.ttl, d.cache_control, d.custom_domain, d.max_cacheable FROM {S}.containers c LEFT JOIN {S}.container_cdn d ON d.container_id = c.id WHERE c.name = @name;")
                    .Text("@name", name);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
                if (reader.IsDBNull(1)) return CdnConfiguration.Disabled;
                var edges = reader.GetString(2);
                return new CdnConfiguration
                {
                    Enabled = reader.GetBoolean(1),
                    EdgeLocations = edges.Length == 0 ? [] : edges.Split(','),
                    TimeToLive = TimeSpan.FromTicks(reader.GetInt64(3)),
                    CacheControl = reader.NullableString(4),
                    CustomDomain = reader.NullableString(5),
                    MaxCacheableSize = reader.GetInt64(6),
                };
            },
            snapshot: false,
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask SetCdnConfigurationAsync(string container, CdnConfiguration configuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(configuration);
        return WriteAsync(
            (Container: container, Configuration: configuration),
            static async (tx, request, ct) =>
            {
                var id = await ContainerIdAsync(tx, request.Container, ct).ConfigureAwait(false);
                var c = request.Configuration;
                if (c.CustomDomain is { } domain)
                {
                    using var owner = tx.Command(
                        "SELECT c.name FROM {S}.container_cdn d JOIN {S}.containers c ON c.id = d.container_id WHERE d.custom_domain = @domain AND d.container_id <> @id;")
                        .Text("@domain", domain).Long("@id", id);
                    if (await owner.ExecuteScalarAsync(ct).ConfigureAwait(false) is string other)
                    {
                        throw new BlobStorageException(
                            BlobErrorCode.CustomDomainInUse,
                            $"CustomDomain '{domain}' is already the domain of container '{other}'; a domain serves one container.");
                    }
                }

                using var upsert = tx.Command(
                    """
                    INSERT INTO {S}.container_cdn (container_id, enabled, edges, ttl, cache_control, custom_domain, max_cacheable)
                    VALUES (@id, @enabled, @edges, @ttl, @cache_control, @custom_domain, @max_cacheable)
                    ON CONFLICT (container_id) DO UPDATE SET enabled = excluded.enabled, edges = excluded.edges, ttl = excluded.ttl,
                        cache_control = excluded.cache_control, custom_domain = excluded.custom_domain, max_cacheable = excluded.max_cacheable;
                    """)
                    .Long("@id", id)
                    .Text("@edges", string.Join(',', c.EdgeLocations))
                    .Long("@ttl", c.TimeToLive.Ticks)
                    .Text("@cache_control", c.CacheControl)
                    .Text("@custom_domain", c.CustomDomain)
                    .Long("@max_cacheable", c.MaxCacheableSize);
                upsert.Parameters.AddWithValue("@enabled", c.Enabled);
                await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                await NotifyAsync(tx, request.Container, null, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<string?> FindContainerByCustomDomainAsync(string domain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(domain);
        return ReadAsync(
            domain,
            static async (tx, domain, ct) =>
            {
                using var command = tx.Command(
                    "SELECT c.name FROM {S}.container_cdn d JOIN {S}.containers c ON c.id = d.container_id WHERE d.custom_domain = @domain AND d.enabled;")
                    .Text("@domain", domain);
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as string;
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
            static async (tx, request, ct) =>
            {
                var id = await ContainerIdAsync(tx, request.Container, ct).ConfigureAwait(false);
                using (var update = tx.Command("UPDATE {S}.containers SET storage_class = @class WHERE id = @id;").Int("@class", (int)request.Class).Long("@id", id))
                {
                    await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await NotifyAsync(tx, request.Container, null, ct).ConfigureAwait(false);
                return (await SelectContainerAsync(tx, request.Container, ct).ConfigureAwait(false))!;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LifecycleRule>?> GetLifecycleRulesAsync(string container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return ReadAsync<string, IReadOnlyList<LifecycleRule>?>(
            container,
            static async (tx, name, ct) =>
            {
                using var command = tx.Command(
                    "SELECT c.id, r.name, r.prefix, r.action, r.storage_class, r.days, r.basis FROM {S}.containers c LEFT JOIN {S}.lifecycle_rules r ON r.container_id = c.id WHERE c.name = @name ORDER BY r.position;")
                    .Text("@name", name);
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                List<LifecycleRule>? rules = null;
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    rules ??= [];
                    if (reader.IsDBNull(1)) continue;
                    rules.Add(new LifecycleRule
                    {
                        Name = reader.GetString(1),
                        Prefix = reader.IsDBNull(2) ? null : System.Text.Encoding.UTF8.GetString(reader.Bytes(2)),
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
            static async (tx, request, ct) =>
            {
                var id = await ContainerIdAsync(tx, request.Container, ct).ConfigureAwait(false);
                using (var delete = tx.Command("DELETE FROM {S}.lifecycle_rules WHERE container_id = @id;").Long("@id", id))
                {
                    await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                for (var i = 0; i < request.Rules.Count; i++)
                {
                    var rule = request.Rules[i];
                    using var insert = tx.Command(
                        "INSERT INTO {S}.lifecycle_rules (container_id, position, name, prefix, action, storage_class, days, basis) VALUES (@id, @position, @name, @prefix, @action, @class, @days, @basis);")
                        .Long("@id", id)
                        .Int("@position", i)
                        .Text("@name", rule.Name)
                        .Bytes("@prefix", string.IsNullOrEmpty(rule.Prefix) ? null : Utf8(rule.Prefix))
                        .Int("@action", (int)rule.Action)
                        .Int("@class", rule.StorageClass is { } target ? (int)target : null)
                        .Int("@days", rule.DaysAfter)
                        .Int("@basis", (int)rule.Basis);
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
            },
            cancellationToken);
    }
}
