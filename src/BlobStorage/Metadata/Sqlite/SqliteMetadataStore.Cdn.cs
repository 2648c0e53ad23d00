using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    private const string SelectCdnSql =
        "SELECT c.id, d.enabled, d.edges, d.ttl, d.cache_control, d.custom_domain, d.max_cacheable FROM containers c LEFT JOIN container_cdn d ON d.container_id = c.id WHERE c.name = @name;";

    private const string UpsertCdnSql =
        """
        INSERT INTO container_cdn (container_id, enabled, edges, ttl, cache_control, custom_domain, max_cacheable)
        VALUES (@id, @enabled, @edges, @ttl, @cache_control, @custom_domain, @max_cacheable)
        ON CONFLICT (container_id) DO UPDATE SET enabled = excluded.enabled, edges = excluded.edges, ttl = excluded.ttl,
            cache_control = excluded.cache_control, custom_domain = excluded.custom_domain, max_cacheable = excluded.max_cacheable;
        """;

    private const string SelectDomainOwnerSql =
        "SELECT c.name FROM container_cdn d JOIN containers c ON c.id = d.container_id WHERE d.custom_domain = @domain AND d.container_id <> @id;";

    private const string SelectEnabledDomainSql =
        "SELECT c.name FROM container_cdn d JOIN containers c ON c.id = d.container_id WHERE d.custom_domain = @domain AND d.enabled = 1;";

    private const string DeleteCdnSql = "DELETE FROM container_cdn WHERE container_id = @id;";

    /// <inheritdoc />
    public ValueTask<CdnConfiguration?> GetCdnConfigurationAsync(string container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        return ReadAsync(
            container,
            static (session, name) =>
            {
                using var reader = session.Command(SelectCdnSql).Set("@name", name).ExecuteReader();
                if (!reader.Read()) return null;
                if (reader.IsDBNull(1)) return CdnConfiguration.Disabled;
                var edges = reader.GetString(2);
                return new CdnConfiguration
                {
                    Enabled = reader.GetInt64(1) != 0,
                    EdgeLocations = edges.Length == 0 ? [] : edges.Split(','),
                    TimeToLive = TimeSpan.FromTicks(reader.GetInt64(3)),
                    CacheControl = reader.IsDBNull(4) ? null : reader.GetString(4),
                    CustomDomain = reader.IsDBNull(5) ? null : reader.GetString(5),
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
            static (session, request) =>
            {
                var id = ContainerId(session, request.Container);
                var c = request.Configuration;
                if (c.CustomDomain is { } domain)
                {
                    using var owner = session.Command(SelectDomainOwnerSql).Set("@domain", domain).Set("@id", id).ExecuteReader();
                    if (owner.Read())
                    {
                        throw new BlobStorageException(
                            BlobErrorCode.CustomDomainInUse,
                            $"CustomDomain '{domain}' is already the domain of container '{owner.GetString(0)}'; a domain serves one container.");
                    }
                }

                session.Command(UpsertCdnSql)
                    .Set("@id", id)
                    .Set("@enabled", c.Enabled ? 1L : 0L)
                    .Set("@edges", string.Join(',', c.EdgeLocations))
                    .Set("@ttl", c.TimeToLive.Ticks)
                    .Set("@cache_control", c.CacheControl)
                    .Set("@custom_domain", c.CustomDomain)
                    .Set("@max_cacheable", c.MaxCacheableSize)
                    .ExecuteNonQuery();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<string?> FindContainerByCustomDomainAsync(string domain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(domain);
        return ReadAsync(
            domain,
            static (session, domain) =>
            {
                using var reader = session.Command(SelectEnabledDomainSql).Set("@domain", domain).ExecuteReader();
                return reader.Read() ? reader.GetString(0) : null;
            },
            snapshot: false,
            cancellationToken);
    }

    private static void DeleteCdnConfiguration(SqliteSession session, long containerId) =>
        session.Command(DeleteCdnSql).Set("@id", containerId).ExecuteNonQuery();
}
