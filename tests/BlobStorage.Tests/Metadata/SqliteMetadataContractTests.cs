using BlobStorage.Abstractions;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Tests.Contracts;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Metadata;

public sealed class SqliteMetadataContractTests : MetadataStoreContractTests
{
    private TempFolder? _folder;

    private string DatabasePath => Path.Combine(_folder!.Path, "metadata.db");

    protected override async ValueTask<IMetadataStore> CreateStoreAsync()
    {
        _folder = new TempFolder("sqlite");
        return await OpenAsync();
    }

    protected override async ValueTask<IMetadataStore> ReopenAsync()
    {
        await Store.DisposeAsync();
        return await OpenAsync();
    }

    [TearDown]
    public async Task DeleteFolderAsync()
    {
        await Store.DisposeAsync();
        _folder?.Dispose();
    }

    private async Task<IMetadataStore> OpenAsync()
    {
        var store = new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = DatabasePath });
        await store.InitializeAsync();
        return store;
    }
}
