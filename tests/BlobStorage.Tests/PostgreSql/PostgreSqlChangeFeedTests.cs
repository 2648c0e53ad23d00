using System.Threading.Channels;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.EdgeCache;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.PostgreSql;

/// <summary>
/// Two stores (two "processes") over one PostgreSQL schema and one chunk store: what one commits reaches the other's
/// edge cache and its container settings through LISTEN/NOTIFY.
/// </summary>
public sealed class PostgreSqlChangeFeedTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private PostgreSqlTestDatabase _database = null!;
    private TempFolder _folder = null!;
    private FileSystemChunkStore _chunks = null!;

    [SetUp]
    public void Create()
    {
        _database = PostgreSqlTestDatabase.Create("feed");
        _folder = new TempFolder("pg-feed");
        _chunks = new FileSystemChunkStore(Path.Combine(_folder.Path, "chunks"));
    }

    [TearDown]
    public async Task CleanUpAsync()
    {
        _chunks?.Dispose();
        if (_database is not null) await _database.DisposeAsync();
        _database = null!;
        _folder?.Dispose();
    }

    private Task<IBlobStore> OpenAsync(string name, IEdgeCache? edgeCache = null)
    {
        var builder = new BlobStoreBuilder(Path.Combine(_folder.Path, name))
            .UsePostgreSqlMetadataStore(PostgreSqlTestDatabase.ConnectionString, _database.Schema)
            .UseChunkStore(_chunks);
        if (edgeCache is not null) builder.UseEdgeCache(edgeCache);
        return builder.OpenAsync();
    }

    [Test]
    public async Task Overwrites_deletes_and_container_changes_in_one_store_reach_the_other()
    {
        var edges = new RecordingEdgeCache(new MemoryEdgeCache(1 << 20, TimeProvider.System));
        await using var a = await OpenAsync("a");
        await using var b = await OpenAsync("b", edges);
        await a.CreateContainerAsync("box");
        await a.UploadAsync("box", "shared", new MemoryStream([1, 2, 3]));
        await a.UploadAsync("box", "gone", new MemoryStream([4, 5, 6]));

        (await edges.NextAsync()).Should().Be(("box", "shared"), "A's upload of a new blob is a change too");
        (await edges.NextAsync()).Should().Be(("box", "gone"));

        await a.UploadAsync("box", "shared", new MemoryStream([7, 8, 9]));
        (await edges.NextAsync()).Should().Be(("box", "shared"), "B's edges drop the version A replaced");
        await a.DeleteAsync("box", "gone");
        (await edges.NextAsync()).Should().Be(("box", "gone"));

        // B keeps container settings in memory; A changes the default class, and B's next upload follows it.
        (await b.UploadAsync("box", "before", new MemoryStream([1]))).StorageClass.Should().Be(StorageClass.Standard);
        (await edges.NextAsync()).Should().Be(("box", "before"), "B invalidates its own edges at once");
        await a.SetContainerDefaultStorageClassAsync("box", StorageClass.InfrequentAccess);
        (await edges.NextAsync()).Should().Be(("box", (string?)null));
        (await b.UploadAsync("box", "after", new MemoryStream([2]))).StorageClass.Should().Be(StorageClass.InfrequentAccess);
        (await edges.NextAsync()).Should().Be(("box", "after"));

        // B's own changes are not echoed back to it: notifications arrive in commit order, and A's next one comes right after.
        await a.UploadAsync("box", "last", new MemoryStream([3]));
        (await edges.NextAsync()).Should().Be(("box", "last"));
    }

    /// <summary>An edge cache that records every invalidation it is asked for, in order.</summary>
    private sealed class RecordingEdgeCache(IEdgeCache inner) : IEdgeCache
    {
        private readonly Channel<(string Container, string? Name)> _invalidations = Channel.CreateUnbounded<(string, string?)>();

        public int Pending => _invalidations.Reader.Count;

        public async Task<(string Container, string? Name)> NextAsync() => await _invalidations.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        public ValueTask<Stream> ReadAsync(string edgeLocation, BlobProperties version, CdnConfiguration configuration, long offset, long length, Func<long, long, CancellationToken, ValueTask<Stream>> origin, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(edgeLocation, version, configuration, offset, length, origin, cancellationToken);

        public async ValueTask InvalidateAsync(string container, string? name = null, string? edgeLocation = null, CancellationToken cancellationToken = default)
        {
            await inner.InvalidateAsync(container, name, edgeLocation, cancellationToken);
            _invalidations.Writer.TryWrite((container, name));
        }

        public EdgeCacheStatistics GetStatistics() => inner.GetStatistics();
    }
}
