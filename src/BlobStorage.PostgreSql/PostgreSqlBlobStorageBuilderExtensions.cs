using BlobStorage.Abstractions;
using BlobStorage.PostgreSql;
using Npgsql;

// DI extensions live in this namespace by the convention of Microsoft.Extensions.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Puts the metadata of a store registered with <c>AddBlobStorage</c> (or <c>AddKeyedBlobStorage</c>) in PostgreSQL.</summary>
public static class PostgreSqlBlobStorageBuilderExtensions
{
    /// <summary>
    /// Keeps the store's metadata in the PostgreSQL database <paramref name="connectionString"/> names, in
    /// <paramref name="schema"/>, replacing the SQLite default. The container disposes the metadata store.
    /// </summary>
    /// <param name="builder">The builder <c>AddBlobStorage</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="schema">The schema of the store's tables; <see cref="PostgreSqlMetadataStore.DefaultSchema"/> when null.</param>
    /// <returns>The builder.</returns>
    public static IBlobStorageBuilder UsePostgreSqlMetadataStore(this IBlobStorageBuilder builder, string connectionString, string? schema = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        return Register(builder, _ => new PostgreSqlMetadataStore(connectionString, schema));
    }

    /// <summary>
    /// Keeps the store's metadata in PostgreSQL through a data source the container provides (for example one
    /// registered with Npgsql's <c>AddNpgsqlDataSource</c>: <c>sp =&gt; sp.GetRequiredService&lt;NpgsqlDataSource&gt;()</c>),
    /// in <paramref name="schema"/>. The data source stays the container's to dispose.
    /// </summary>
    /// <param name="builder">The builder <c>AddBlobStorage</c> returned.</param>
    /// <param name="dataSource">Gets the data source from the container.</param>
    /// <param name="schema">The schema of the store's tables; <see cref="PostgreSqlMetadataStore.DefaultSchema"/> when null.</param>
    /// <returns>The builder.</returns>
    public static IBlobStorageBuilder UsePostgreSqlMetadataStore(this IBlobStorageBuilder builder, Func<IServiceProvider, NpgsqlDataSource> dataSource, string? schema = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        return Register(builder, sp => new PostgreSqlMetadataStore(dataSource(sp), schema));
    }

    private static IBlobStorageBuilder Register(IBlobStorageBuilder builder, Func<IServiceProvider, PostgreSqlMetadataStore> create)
    {
        var services = builder.Services;
        var key = builder.ServiceKey;

        // AddBlobStorage registered SQLite with TryAdd; this registration replaces it, whichever was made first.
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IMetadataStore) && Equals(services[i].ServiceKey, key)) services.RemoveAt(i);
        }

        if (key is null) services.AddSingleton<IMetadataStore>(create);
        else services.AddKeyedSingleton<IMetadataStore>(key, (sp, _) => create(sp));
        return builder;
    }
}
