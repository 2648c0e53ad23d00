using BlobStorage.PostgreSql;

namespace BlobStorage;

/// <summary>Puts a <see cref="BlobStoreBuilder"/>'s metadata in PostgreSQL.</summary>
public static class PostgreSqlBlobStoreBuilderExtensions
{
    /// <summary>
    /// Keeps the store's metadata in the PostgreSQL database <paramref name="connectionString"/> names, in
    /// <paramref name="schema"/> (created and migrated when the store opens), instead of SQLite in the root folder. Every
    /// process that opens a store over the same database and schema, and the same chunks, shares one store. The
    /// metadata store is disposed with the store.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="connectionString">An Npgsql connection string, for example <c>Host=db;Username=app;Password=...;Database=app</c>.</param>
    /// <param name="schema">The schema of the store's tables; <see cref="PostgreSqlMetadataStore.DefaultSchema"/> when null.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="Abstractions.BlobStorageException">The connection string cannot be parsed (<see cref="Abstractions.BlobErrorCode.StoreUnavailable"/>).</exception>
    public static BlobStoreBuilder UsePostgreSqlMetadataStore(this BlobStoreBuilder builder, string connectionString, string? schema = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        return builder.UseOwnedMetadataStore(new PostgreSqlMetadataStore(connectionString, schema));
    }
}
