using BlobStorage.PostgreSql;
using BlobStorage.Tests.Support;
using Npgsql;

namespace BlobStorage.Tests.PostgreSql;

/// <summary>
/// A schema of its own in the test database, for one test: a new name each time, dropped with everything in it on
/// dispose, so tests neither see each other's rows nor depend on their order.
/// </summary>
internal sealed class PostgreSqlTestDatabase : IAsyncDisposable
{
    private PostgreSqlTestDatabase(string schema) => Schema = schema;

    public string Schema { get; }

    public static string ConnectionString => TestServers.PostgreSqlConnectionString;

    /// <summary>Ignores the test (fails it under CI=true) when PostgreSQL is down; otherwise names a fresh schema.</summary>
    public static PostgreSqlTestDatabase Create(string prefix = "t")
    {
        TestServers.RequirePostgreSql();
        return new PostgreSqlTestDatabase($"bs_{prefix}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 36)]);
    }

    /// <summary>A new, initialized store over this schema.</summary>
    public async Task<PostgreSqlMetadataStore> OpenAsync(int enumerationPageSize = 7)
    {
        var store = new PostgreSqlMetadataStore(ConnectionString, Schema) { EnumerationPageSize = enumerationPageSize };
        try
        {
            await store.InitializeAsync();
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{S}", "\"" + Schema + "\"", StringComparison.Ordinal), connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE;", connection);
        await command.ExecuteNonQueryAsync();
    }
}
