using BlobStorage.Abstractions;
using BlobStorage.PostgreSql;
using BlobStorage.Tests.Contracts;

namespace BlobStorage.Tests.PostgreSql;

/// <summary>The metadata store contract on <see cref="PostgreSqlMetadataStore"/>, each test in a schema of its own.</summary>
public sealed class PostgreSqlMetadataStoreTests : MetadataStoreContractTests
{
    private PostgreSqlTestDatabase? _database;

    // Pages of 7 rows (see PostgreSqlTestDatabase.OpenAsync): every enumeration crosses page boundaries.
    protected override int EnumerationBlobCount => 40;

    protected override async ValueTask<IMetadataStore> CreateStoreAsync()
    {
        _database = PostgreSqlTestDatabase.Create("contract");
        return await _database.OpenAsync();
    }

    protected override async ValueTask<IMetadataStore> ReopenAsync()
    {
        await Store.DisposeAsync();
        return await _database!.OpenAsync();
    }

    [TearDown]
    public async Task DropSchemaAsync()
    {
        if (Store is not null) await Store.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}
