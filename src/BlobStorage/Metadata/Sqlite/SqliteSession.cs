using System.Text.RegularExpressions;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// One open connection with its commands, each prepared once and reused call after call: a call
/// only sets parameter values. Used by one caller at a time (the writer under its lock, a reader
/// while it is rented from the pool).
/// </summary>
internal sealed partial class SqliteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SqliteStatement> _statements = new(StringComparer.Ordinal);
    // Transactions are begun and ended on the raw handle (BEGIN/COMMIT as prepared statements):
    // Microsoft.Data.Sqlite knows nothing of them, and its commands need not be enlisted, since
    // SQLite's transaction is the connection's.
    private bool _inTransaction;

    private SqliteSession(SqliteConnection connection) => Connection = connection;

    public SqliteConnection Connection { get; }

    /// <summary>
    /// Holds a chunk id while it is bound. SQLite copies a blob parameter when it binds it, so one
    /// buffer serves every statement of the session and no id becomes a new array.
    /// </summary>
    public byte[] IdBuffer { get; } = new byte[ChunkId.Size];

    /// <summary>Holds a name read from a row while it is examined or decoded.</summary>
    public byte[] NameBuffer { get; } = new byte[BlobNames.MaxBlobNameBytes + 1];

    /// <summary>Opens a connection and sets the PRAGMAs every connection of the store carries.</summary>
    /// <param name="connectionString">The store's connection string.</param>
    /// <param name="synchronous">How commits are flushed.</param>
    /// <param name="databasePath">The database file, for messages.</param>
    /// <param name="reader">A pooled reader connection (see <see cref="ReaderPragmas"/>) rather than the writer.</param>
    /// <exception cref="SqliteException">The file could not be opened or is not a database.</exception>
    /// <exception cref="BlobStorageException">The database cannot use a write-ahead log.</exception>
    public static SqliteSession Open(string connectionString, SynchronousMode synchronous, string databasePath, bool reader)
    {
        var connection = new SqliteConnection(connectionString);
        var session = new SqliteSession(connection);
        try
        {
            connection.Open();

            // Without WAL a reader would block the writer and a checkpoint-free commit could not be made durable cheaply.
            var mode = session.Scalar("PRAGMA journal_mode = WAL;") as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new BlobStorageException(
                    BlobErrorCode.StoreUnavailable,
                    $"The metadata database '{databasePath}' could not be put in WAL mode; it stays in '{mode}' mode (a file system without shared memory support, such as a network share, cannot hold it).");
            }

            session.Execute(synchronous == SynchronousMode.Normal ? "PRAGMA synchronous = NORMAL;" : "PRAGMA synchronous = FULL;");

            // The writer reads the index through a memory map (no system call per page) and caches the pages its
            // commits change; readers read by system calls (see ReaderPragmas). A larger WAL between checkpoints
            // spreads the checkpoints' flushes. The caches are small on purpose (see WriterPragmas).
            session.Execute(reader ? ReaderPragmas : WriterPragmas);
            session.Execute("PRAGMA wal_autocheckpoint = 4000;");
            session.Execute("PRAGMA journal_size_limit = 67108864;");
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A reader connection reads without a memory map, into a page cache of 2 MiB (see <see cref="WriterPragmas"/>).
    /// </summary>
    /// <remarks>
    /// Through a map, a page costs a page fault the first time a connection touches it, and stays mapped,
    /// and counted in the process's working set, once per connection, for as long as the connection is
    /// open: reading a store's small blobs once grew the working set by their whole size per reader. On
    /// this 2-core machine mapping a page already in the kernel's cache took about 1.7 us (64 KiB: 25 to
    /// 34 us, whether faulted, MADV_POPULATE_READ or MAP_POPULATE) against 5 us to pread the same 64 KiB,
    /// so a map wins only on the second and later reads of a page by the same connection. Blobs are read
    /// first after they are written, the case issue 16 measures. Compare runner, get-first (each blob read
    /// once right after its put) and get-raw (the same blobs read again and again), medians of 3 runs,
    /// ratios to the file store, 1 / 8 tasks, two alternations:
    /// 4 KiB first read: map 0.99x / 0.83x and 0.97x / 0.40x; no map 1.64x / 0.57x and 0.86x / 0.59x;
    /// 64 KiB first read: map 0.37x / 0.34x and 0.32x / 0.25x; no map 0.37x / 0.53x and 0.42x / 0.45x,
    /// with the working set growing by +60 to +106 MB with the map and by at most +4 MB without.
    /// Read again, a 64 KiB blob fell from 1.9x to 2.3x with the map to 0.5x without, and 4 KiB from
    /// 2.9x to 3.6x to 2.2x (1 task). A 64 KiB blob is 16 overflow pages, each a system call of its own
    /// (SQLite reads overflow pages straight into the value, past its cache, when they are not in the log);
    /// those were measured before <see cref="BufferedVfs"/>, which now reads such a run of pages in one call.
    /// </remarks>
    internal const string ReaderPragmas = "PRAGMA mmap_size = 0; PRAGMA cache_size = -2048;";

    /// <summary>
    /// The writer reads through a memory map of up to 256 MiB and caches 4 MiB of pages; each reader caches 2 MiB.
    /// </summary>
    /// <remarks>
    /// A connection's cache is memory of the process's own, filled by the pages it reads and never given back while the
    /// connection is open: with 16 MiB for the writer and 4 MiB for each of four readers, SQLite alone could hold 32 MB,
    /// the whole allowance issue 16 gives the store over the file store's working set. Measured with compare's
    /// fresh-process probe (each size's puts with 1 and 8 tasks, then each blob read once), peaks in MB, 16 MiB and
    /// 4 MiB caches against 4 MiB and 2 MiB, two runs each, file store 61.8 to 66.4: 4 KiB puts 97.7 and 98.2 against
    /// 83.5 and 83.5, gets 112.1 and 113.0 against 93.7 and 93.6; 64 KiB puts 103.2 and 104.8 against 93.0 and 94.4,
    /// gets 104.0 and 108.9 against 94.0 and 93.5. In the same runs the smaller caches were no slower (4 KiB puts 2,986
    /// and 2,795 a second against 4,272 and 3,761; first reads 34,597 and 42,416 against 52,621 and 54,250; repeated
    /// reads 104,805 and 93,065 against 89,773 and 97,621; listings 19,647 and 24,221 against 20,316 and 25,192): most
    /// pages a small blob's read or commit touches are found through the map or read once, and the B-tree's inner
    /// pages, the ones read again and again, fit many times over in 2 MiB.
    /// </remarks>
    internal const string WriterPragmas = "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -4096;";

    /// <summary>True while a transaction is open on the session.</summary>
    public bool InTransaction => _inTransaction;

    /// <summary>
    /// The prepared command for <paramref name="sql"/>, run in the session's open transaction if any. Its
    /// parameters (every <c>@name</c> in the text) exist already; the caller sets each value.
    /// </summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var match in ParameterName().EnumerateMatches(sql))
            {
                var name = sql.Substring(match.Index, match.Length);
                if (!command.Parameters.Contains(name)) command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            command.Prepare();
            _commands.Add(sql, command);
        }

        return command;
    }

    /// <summary>
    /// The statement for <paramref name="sql"/>, prepared once on this connection and run through SQLite's
    /// own API (see <see cref="SqliteStatement"/>); for the hottest reads. The caller resets it when done.
    /// </summary>
    public SqliteStatement Statement(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            statement = SqliteStatement.Prepare(Connection, sql);
            _statements.Add(sql, statement);
        }

        return statement;
    }

    /// <summary>
    /// Begins a write transaction with <c>BEGIN IMMEDIATE</c>: the write lock is taken now, so a read that
    /// precedes a write can never fail to upgrade. While another connection holds the lock, it waits for
    /// it until the connection's timeout has passed.
    /// </summary>
    /// <remarks>
    /// Transactions run as prepared statements on the raw handle rather than through
    /// <see cref="SqliteConnection.BeginTransaction(bool)"/>, which prepares <c>BEGIN</c> and
    /// <c>COMMIT</c> anew each time: a read of one row paid more for those than for its query.
    /// </remarks>
    public void BeginWrite()
    {
        if (InTransaction) throw new InvalidOperationException("A transaction is already open.");
        ExecuteRaw("BEGIN IMMEDIATE;");
        _inTransaction = true;
    }

    /// <summary>
    /// Begins a write transaction as <see cref="BeginWrite"/> does when the write lock is free at once;
    /// false, with nothing begun, when another connection holds it.
    /// </summary>
    public bool TryBeginWrite()
    {
        if (InTransaction) throw new InvalidOperationException("A transaction is already open.");
        var statement = Statement("BEGIN IMMEDIATE;");
        try
        {
            if (!statement.TryStep()) return false;
        }
        finally
        {
            statement.Reset();
        }

        _inTransaction = true;
        return true;
    }

    /// <summary>Begins a read transaction (<c>BEGIN</c>): the statements that follow see one snapshot.</summary>
    public void BeginRead()
    {
        if (InTransaction) throw new InvalidOperationException("A transaction is already open.");
        ExecuteRaw("BEGIN;");
        _inTransaction = true;
    }

    private void ExecuteRaw(string sql) => Statement(sql).Execute();

    /// <summary>Opens a savepoint inside the write transaction, so one piece of a group commit can be undone alone.</summary>
    public void Savepoint() => ExecuteRaw("SAVEPOINT work;");

    /// <summary>Undoes everything since <see cref="Savepoint"/>; the transaction stays open.</summary>
    public void RollbackToSavepoint() => ExecuteRaw("ROLLBACK TO work;");

    /// <summary>Ends the savepoint, keeping its changes in the transaction.</summary>
    public void ReleaseSavepoint() => ExecuteRaw("RELEASE work;");

    /// <summary>Commits the open transaction; a write is durable when this returns (with <c>synchronous=FULL</c>).</summary>
    /// <remarks>When the commit fails, the transaction may still be open: the caller rolls it back.</remarks>
    public void Commit()
    {
        if (!InTransaction) throw new InvalidOperationException("No transaction is open.");
        ExecuteRaw("COMMIT;");
        _inTransaction = false;
    }

    /// <summary>Rolls back the open transaction, if any. Never throws: it runs while another exception is on its way out.</summary>
    public void Rollback()
    {
        if (!InTransaction) return;
        _inTransaction = false;
        try
        {
            // A failed statement may have ended the transaction already: SQLite rolls one back on its own when it must.
            if (raw.sqlite3_get_autocommit(Connection.Handle) == 0) ExecuteRaw("ROLLBACK;");
        }
        catch (SqliteException)
        {
            // The original error matters more.
        }
    }

    public void Execute(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public object? Scalar(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        Rollback();
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();

        // Finalized before the connection closes, or SQLite would keep the database open for them.
        foreach (var statement in _statements.Values) statement.Dispose();
        _statements.Clear();
        Connection.Dispose();
    }

    [GeneratedRegex(@"@[A-Za-z_][A-Za-z0-9_]*", RegexOptions.CultureInvariant)]
    private static partial Regex ParameterName();
}

/// <summary>Sets the values of a prepared command's parameters.</summary>
internal static class SqliteCommandExtensions
{
    /// <summary>Sets the value of the parameter <paramref name="name"/> (null as SQL NULL) and returns the command.</summary>
    public static SqliteCommand Set(this SqliteCommand command, string name, object? value)
    {
        command.Parameters[name].Value = value ?? DBNull.Value;
        return command;
    }
}
