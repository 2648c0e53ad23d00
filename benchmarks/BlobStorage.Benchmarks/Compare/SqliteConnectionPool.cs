using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// The SQLite connections of one database file, set up as a careful application would: WAL,
/// <c>synchronous=FULL</c> (every commit flushed), one writer connection used under a lock (SQLite
/// has one writer at a time anyway) and a pool of reader connections; each connection keeps its
/// prepared statements.
/// </summary>
internal sealed class SqliteConnectionPool : IDisposable
{
    private readonly string _connectionString;
    private readonly ConcurrentBag<SqliteSession> _readers = [];
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SqliteSession _writer;

    public SqliteConnectionPool(string path, string schema)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        _writer = Open();
        using var command = _writer.Connection.CreateCommand();
        command.CommandText = schema;
        command.ExecuteNonQuery();
    }

    /// <summary>Waits for the writer connection; dispose the result to release it.</summary>
    public async ValueTask<WriterLease> WriterAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        return new WriterLease(this);
    }

    public SqliteSession RentReader() => _readers.TryTake(out var session) ? session : Open();

    public void Return(SqliteSession session) => _readers.Add(session);

    public void Dispose()
    {
        _writer.Dispose();
        while (_readers.TryTake(out var session))
        {
            session.Dispose();
        }

        _writeLock.Dispose();
    }

    private SqliteSession Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
        command.ExecuteNonQuery();
        return new SqliteSession(connection);
    }

    /// <summary>The writer connection, held until disposed.</summary>
    public readonly struct WriterLease(SqliteConnectionPool pool) : IDisposable
    {
        public SqliteSession Session => pool._writer;

        public void Dispose() => pool._writeLock.Release();
    }
}

/// <summary>An open connection and its prepared statements, one per SQL text.</summary>
internal sealed class SqliteSession(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteConnection Connection => connection;

    /// <summary>
    /// The prepared command for <paramref name="sql"/> in <paramref name="transaction"/> (or none),
    /// its parameters named in <paramref name="parameters"/>; set their values before each use.
    /// </summary>
    public SqliteCommand Command(string sql, SqliteTransaction? transaction, params string[] parameters)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var parameter in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = parameter });
            }

            _commands.Add(sql, command);
        }

        command.Transaction = transaction;
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        connection.Dispose();
    }
}
