using System.Buffers;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// <c>sqlite-blobs</c>: every blob a row of one SQLite table (name PRIMARY KEY, data BLOB), in WAL
/// mode with <c>synchronous=FULL</c>, one transaction per put. Small values are bound as a
/// parameter; larger ones are streamed in: the row is inserted with <c>zeroblob(length)</c> and the
/// bytes written through a <see cref="SqliteBlob"/> in the same transaction. Reads always stream
/// through a <see cref="SqliteBlob"/>. SQLite keeps a value in one row, so a blob larger than its
/// length limit (1,000,000,000 bytes unless compiled otherwise) cannot be stored at all.
/// </summary>
internal sealed class SqliteBlobPeerStore : IPeerStore
{
    private const int BoundValueLimit = 64 * 1024;
    private const int MaxBufferSize = 1024 * 1024;

    private const string Schema = "CREATE TABLE IF NOT EXISTS blobs (name TEXT NOT NULL PRIMARY KEY, data BLOB NOT NULL);";

    private const int LimitLength = 0;

    private readonly SqliteConnectionPool _database;
    private readonly long _maxValueLength;

    public SqliteBlobPeerStore(string root)
    {
        Directory.CreateDirectory(root);
        _database = new SqliteConnectionPool(Path.Combine(root, "blobs.db"), Schema);
        using var writer = _database.WriterAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _maxValueLength = SQLitePCL.raw.sqlite3_limit(writer.Session.Connection.Handle, LimitLength, -1);
    }

    public string Name => "sqlite-blobs";

    public bool Durable => true;

    public string Description => "one SQLite transaction per put (WAL, synchronous=FULL), large values through zeroblob + SqliteBlob";

    public async ValueTask PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        if (!content.CanSeek)
        {
            throw new NotSupportedException("sqlite-blobs needs the length up front (zeroblob): give it a seekable stream.");
        }

        var length = content.Length - content.Position;
        if (length > _maxValueLength)
        {
            throw new NotSupportedException($"SQLite holds at most {_maxValueLength:N0} bytes in one value (SQLITE_LIMIT_LENGTH); this blob has {length:N0}.");
        }

        using var writer = await _database.WriterAsync(cancellationToken);
        var connection = writer.Session.Connection;
        using var transaction = connection.BeginTransaction();
        if (length <= BoundValueLimit)
        {
            var value = new byte[length];
            await content.ReadExactlyAsync(value, cancellationToken);
            var insert = writer.Session.Command(
                "INSERT INTO blobs (name, data) VALUES ($name, $data) ON CONFLICT (name) DO UPDATE SET data = excluded.data;",
                transaction,
                "$name",
                "$data");
            insert.Parameters[0].Value = name;
            insert.Parameters[1].Value = value;
            insert.ExecuteNonQuery();
        }
        else
        {
            var reserve = writer.Session.Command(
                "INSERT INTO blobs (name, data) VALUES ($name, zeroblob($length)) ON CONFLICT (name) DO UPDATE SET data = excluded.data RETURNING rowid;",
                transaction,
                "$name",
                "$length");
            reserve.Parameters[0].Value = name;
            reserve.Parameters[1].Value = length;
            var rowid = (long)reserve.ExecuteScalar()!;
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(length, MaxBufferSize));
            try
            {
                using var blob = new SqliteBlob(connection, "blobs", "data", rowid);
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    blob.Write(buffer, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        transaction.Commit();
    }

    public async ValueTask GetAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        var session = _database.RentReader();
        try
        {
            // One read transaction, so the row found is the row read even if it is overwritten meanwhile.
            using var transaction = session.Connection.BeginTransaction(deferred: true);
            var find = session.Command("SELECT rowid, length(data) FROM blobs WHERE name = $name;", transaction, "$name");
            find.Parameters[0].Value = name;
            long rowid, length;
            using (var reader = find.ExecuteReader())
            {
                if (!reader.Read())
                {
                    throw new FileNotFoundException($"No blob '{name}'.");
                }

                rowid = reader.GetInt64(0);
                length = reader.GetInt64(1);
            }

            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(length, 1, MaxBufferSize));
            try
            {
                using var blob = new SqliteBlob(session.Connection, "blobs", "data", rowid, readOnly: true);
                int read;
                while ((read = blob.Read(buffer, 0, buffer.Length)) > 0)
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            transaction.Commit();
        }
        finally
        {
            _database.Return(session);
        }
    }

    public ValueTask<int> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var session = _database.RentReader();
        try
        {
            var command = session.Command("SELECT name FROM blobs WHERE name >= $from AND name < $to ORDER BY name;", null, "$from", "$to");
            command.Parameters[0].Value = prefix;
            command.Parameters[1].Value = FileSqlitePeerStore.PrefixEnd(prefix);
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
        using var writer = await _database.WriterAsync(cancellationToken);
        using var transaction = writer.Session.Connection.BeginTransaction();
        var command = writer.Session.Command("DELETE FROM blobs WHERE name = $name;", transaction, "$name");
        command.Parameters[0].Value = name;
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }
}
