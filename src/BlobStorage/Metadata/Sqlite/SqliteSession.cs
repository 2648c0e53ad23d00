using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>A connection with its prepared commands, reused call after call.</summary>
internal sealed class SqliteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteSession(string connectionString, SynchronousMode synchronous, TimeSpan busyTimeout)
    {
        Connection = new SqliteConnection(connectionString);
        Connection.Open();
        Execute($"PRAGMA synchronous = {(synchronous == SynchronousMode.Full ? "FULL" : "NORMAL")};");
        Execute($"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds};");
        Execute("PRAGMA foreign_keys = OFF;");

        // Reads through a memory map skip a system call per page, and a bigger page cache keeps the
        // hot part of the index in memory; a larger WAL between checkpoints spreads their flushes.
        Execute("PRAGMA mmap_size = 268435456;");
        Execute("PRAGMA cache_size = -16384;");
        Execute("PRAGMA wal_autocheckpoint = 4000;");
        Execute("PRAGMA journal_size_limit = 67108864;");
    }

    public SqliteConnection Connection { get; }

    /// <summary>The prepared command for <paramref name="sql"/>, its parameters cleared, enlisted in <paramref name="transaction"/>.</summary>
    public SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Parameters.Clear();
        command.Transaction = transaction;
        return command;
    }

    public void Execute(string sql, SqliteTransaction? transaction = null)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        Connection.Dispose();
    }
}
