using LiteDB;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// <c>litedb</c>: LiteDB 5.0.21's file storage (<c>FileStorage.Upload</c> / <c>Download</c>, 255 KB
/// chunks in the <c>_chunks</c> collection) in one data file with its default settings. LiteDB
/// writes its pages through the operating system's cache and does not flush every commit to disk,
/// so its puts are not durable against a power cut. Downloads are serialized: with 8 concurrent
/// downloads through one <see cref="LiteDatabase"/> (shared, as LiteDB recommends), 5.0.21 failed
/// with <see cref="ObjectDisposedException"/> ("Cannot access a closed file") and then every later
/// call with "current value must fit inside defined buffer".
/// </summary>
internal sealed class LiteDbPeerStore : IPeerStore
{
    private readonly LiteDatabase _database;
    private readonly Lock _downloads = new();

    public LiteDbPeerStore(string root)
    {
        Directory.CreateDirectory(root);
        _database = new LiteDatabase(new ConnectionString { Filename = Path.Combine(root, "litedb.db") });
    }

    public string Name => "litedb";

    public bool Durable => false;

    public string Description =>
        "LiteDB 5.0.21 defaults: commits written through the OS cache and flushed to disk only at its checkpoints, not per write; " +
        "downloads serialized (8 concurrent ones broke the database instance)";

    public ValueTask PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        _database.FileStorage.Upload(name, name, content);
        return ValueTask.CompletedTask;
    }

    public ValueTask GetAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        lock (_downloads)
        {
            _database.FileStorage.Download(name, destination);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<int> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_database.FileStorage.Find(Query.StartsWith("_id", prefix)).Count());

    public ValueTask DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        _database.FileStorage.Delete(name);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }
}
