using BlobStorage.Abstractions;
using BlobStorage.PostgreSql;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.PostgreSql;

/// <summary>Whole stores with their metadata in PostgreSQL and their chunks in a folder, made by the builder and by DI.</summary>
public sealed class PostgreSqlBlobStoreTests
{
    private PostgreSqlTestDatabase _database = null!;
    private TempFolder _folder = null!;

    [SetUp]
    public void Create()
    {
        _database = PostgreSqlTestDatabase.Create("store");
        _folder = new TempFolder("pg-store");
    }

    [TearDown]
    public async Task CleanUpAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        _database = null!;
        _folder?.Dispose();
    }

    [Test]
    public async Task Upload_download_list_delete_and_collect_through_the_builder_leave_a_clean_store()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = await new BlobStoreBuilder(_folder.Path)
            .UsePostgreSqlMetadataStore(PostgreSqlTestDatabase.ConnectionString, _database.Schema)
            .UseTimeProvider(time)

            // Only the pass the test runs: a timer's pass fired by advancing the clock would collect at a moment of its own.
            .Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan)
            .OpenAsync();
        await store.CreateContainerAsync("photos");

        var small = RandomBytes(100, seed: 1);
        var large = RandomBytes((3 * 1024 * 1024) + 17, seed: 2);
        await store.UploadAsync("photos", "a/small.bin", new MemoryStream(small));
        await store.UploadAsync("photos", "a/large.bin", new MemoryStream(large));
        await store.UploadAsync("photos", "b/copy-of-large.bin", new MemoryStream(large));

        (await ReadAllAsync(store, "a/small.bin")).Should().Equal(small);
        (await ReadAllAsync(store, "a/large.bin")).Should().Equal(large);
        var page = await store.ListAsync("photos", new BlobListOptions { Delimiter = "/" });
        page.CommonPrefixes.Should().Equal("a/", "b/");
        (await store.ListAsync("photos", new BlobListOptions { Prefix = "a/" })).Blobs.Select(b => b.Name).Should().Equal("a/large.bin", "a/small.bin");

        // The copy shares the large blob's chunks: deleting one keeps them, deleting both lets the collector take them.
        await store.DeleteAsync("photos", "a/large.bin");
        (await ReadAllAsync(store, "b/copy-of-large.bin")).Should().Equal(large);
        await store.DeleteAsync("photos", "b/copy-of-large.bin");
        time.Advance(TimeSpan.FromHours(1));
        (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.chunks WHERE refcount = 0;")).Should().BeOfType<long>().Which.Should().BeGreaterThan(0);
        var maintenance = await store.RunMaintenanceAsync();
        maintenance.ChunksCollected.Should().Be(1, "the large blob's one chunk was unreferenced past the grace period");
        maintenance.BytesReclaimed.Should().Be(large.Length);
        (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.chunks;")).Should().Be(0L, "the collector removed every chunk nothing references");

        var report = await store.VerifyAsync(verifyContent: true);
        report.IsClean.Should().BeTrue("no chunk file is left without its row, and none is missing");
        (await store.GetStatisticsAsync()).TotalBlobs.Should().Be(1);
        (await ReadAllAsync(store, "a/small.bin")).Should().Equal(small);
    }

    [Test]
    public async Task AddBlobStorage_then_UsePostgreSqlMetadataStore_replaces_SQLite()
    {
        var services = new ServiceCollection();
        services.AddBlobStorage(o => o.RootPath = _folder.Path).UsePostgreSqlMetadataStore(PostgreSqlTestDatabase.ConnectionString, _database.Schema);
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IMetadataStore>().Should().BeOfType<PostgreSqlMetadataStore>().Which.Schema.Should().Be(_database.Schema);
        var store = provider.GetRequiredService<IBlobStore>();
        await store.CreateContainerAsync("docs");
        var content = RandomBytes(5000, seed: 3);
        await store.UploadAsync("docs", "readme.txt", new MemoryStream(content));
        (await ReadAllAsync(store, "readme.txt", "docs")).Should().Equal(content);
        File.Exists(Path.Combine(_folder.Path, "metadata.db")).Should().BeFalse("the metadata lives in PostgreSQL");
        (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.blobs;")).Should().Be(1L);
    }

    [Test]
    public async Task A_keyed_store_takes_its_data_source_from_the_container()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(PostgreSqlTestDatabase.ConnectionString));
        services.AddKeyedBlobStorage("archive", o => o.RootPath = _folder.Path)
            .UsePostgreSqlMetadataStore(sp => sp.GetRequiredService<Npgsql.NpgsqlDataSource>(), _database.Schema);
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredKeyedService<IMetadataStore>("archive").Should().BeOfType<PostgreSqlMetadataStore>();
        var store = provider.GetRequiredKeyedService<IBlobStore>("archive");
        await store.CreateContainerAsync("old");
        (await store.ListContainersAsync().ToListAsync()).Select(c => c.Name).Should().Equal("old");
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(IBlobStore store, string name, string container = "photos")
    {
        await using var download = await store.DownloadAsync(container, name);
        using var copy = new MemoryStream();
        await download.Content.CopyToAsync(copy);
        return copy.ToArray();
    }
}
