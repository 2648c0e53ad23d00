using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// <c>file-store+sqlite</c>: the baseline's files plus what an application keeps beside them, a
/// row (name, size, SHA-256) in SQLite per blob, committed in its own transaction after the file
/// is durable. The metadata is the source of truth: a get looks the row up first, a listing is a
/// range query on the names, a delete removes the row and then the file.
/// </summary>
internal sealed class FileSqlitePeerStore : IPeerStore
{
    private const string Schema =
        "CREATE TABLE IF NOT EXISTS blobs (name TEXT NOT NULL PRIMARY KEY, size INTEGER NOT NULL, sha256 BLOB NOT NULL) WITHOUT ROWID;";

    private const string Upsert =
        "INSERT INTO blobs (name, size, sha256) VALUES ($name, $size, $sha256) ON CONFLICT (name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256;";

    private readonly FilePeerStore _files;
    private readonly SqliteConnectionPool _database;

    public FileSqlitePeerStore(string root)
    {
        _files = new FilePeerStore(Path.Combine(root, "files"));
        _database = new SqliteConnectionPool(Path.Combine(root, "metadata.db"), Schema);
    }

    public string Name => "file-store+sqlite";

    public bool Durable => true;

    public string Description => "file-store's put, then a row in its own SQLite transaction (WAL, synchronous=FULL)";

    public async ValueTask PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var size = await _files.WriteAsync(name, content, hash, cancellationToken);
        var sha256 = hash.GetHashAndReset();
        using var writer = await _database.WriterAsync(cancellationToken);
        using var transaction = writer.Session.Connection.BeginTransaction();
        var command = writer.Session.Command(Upsert, transaction, "$name", "$size", "$sha256");
        command.Parameters[0].Value = name;
        command.Parameters[1].Value = size;
        command.Parameters[2].Value = sha256;
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    public async ValueTask GetAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        var session = _database.RentReader();
        try
        {
            var command = session.Command("SELECT size FROM blobs WHERE name = $name;", null, "$name");
            command.Parameters[0].Value = name;
            if (command.ExecuteScalar() is null)
            {
                throw new FileNotFoundException($"No blob '{name}'.");
            }
        }
        finally
        {
            _database.Return(session);
        }

        await _files.GetAsync(name, destination, cancellationToken);
    }

    public ValueTask<int> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var session = _database.RentReader();
        try
        {
            var command = session.Command("SELECT name FROM blobs WHERE name >= $from AND name < $to ORDER BY name;", null, "$from", "$to");
            command.Parameters[0].Value = prefix;
            command.Parameters[1].Value = PrefixEnd(prefix);
            var count = 0;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                _ = reader.GetString(0);
                count++;
            }

            return ValueTask.FromResult(count);
        }
        finally
        {
            _database.Return(session);
        }
    }

    public async ValueTask DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        using (var writer = await _database.WriterAsync(cancellationToken))
        {
            using var transaction = writer.Session.Connection.BeginTransaction();
            var command = writer.Session.Command("DELETE FROM blobs WHERE name = $name;", transaction, "$name");
            command.Parameters[0].Value = name;
            command.ExecuteNonQuery();
            transaction.Commit();
        }

        await _files.DeleteAsync(name, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _database.Dispose();
        await _files.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }

    /// <summary>
    /// The smallest value above every name that starts with <paramref name="prefix"/>, for a range
    /// query on the index: the prefix with its last character incremented (the runner's names are
    /// ASCII); for the empty prefix a BLOB, which SQLite orders after every TEXT value.
    /// </summary>
    internal static object PrefixEnd(string prefix) =>
        prefix.Length == 0 ? new byte[] { 0xFF } : string.Concat(prefix.AsSpan(0, prefix.Length - 1), [(char)(prefix[^1] + 1)]);
}
