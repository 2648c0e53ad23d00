using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>The columns of the row a query stands on, whichever API read it.</summary>
internal interface ISqliteRow
{
    bool IsNull(int ordinal);

    long GetInt64(int ordinal);

    int GetInt32(int ordinal);

    string GetString(int ordinal);

    /// <summary>A BLOB column's bytes, valid until the row moves on; empty for NULL.</summary>
    ReadOnlySpan<byte> GetBlob(int ordinal);
}

/// <summary>The current row of a <see cref="SqliteDataReader"/>.</summary>
internal readonly struct ReaderRow(SqliteDataReader reader) : ISqliteRow
{
    public bool IsNull(int ordinal) => reader.IsDBNull(ordinal);

    public long GetInt64(int ordinal) => reader.GetInt64(ordinal);

    public int GetInt32(int ordinal) => reader.GetInt32(ordinal);

    public string GetString(int ordinal) => reader.GetString(ordinal);

    // Read as one value: GetBytes would go through Microsoft.Data.Sqlite's slower blob stream.
    public ReadOnlySpan<byte> GetBlob(int ordinal) => reader.IsDBNull(ordinal) ? default : reader.GetFieldValue<byte[]>(ordinal);
}

/// <summary>
/// A statement prepared once on a session's connection and run through SQLite's own API. The hot
/// reads use it: it binds and reads without the command, parameter and reader objects of
/// Microsoft.Data.Sqlite, and hands out column values as spans over SQLite's memory, so a small
/// blob's content is copied once, into the array that is returned.
/// </summary>
/// <remarks>
/// Used by one caller at a time, like its session. Every run ends with <see cref="Reset"/>: a
/// statement left stepping would hold its read transaction, and with it an old snapshot, open.
/// </remarks>
internal sealed class SqliteStatement : IDisposable
{
    private const int MaxBusyWaitMilliseconds = 100;

    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;
    // The statement's native pointer, for SqliteNative; valid while _statement is, which this object owns.
    private readonly nint _handle;
    private readonly Dictionary<string, int> _parameters = new(StringComparer.Ordinal);

    private SqliteStatement(SqliteConnection connection, sqlite3_stmt statement)
    {
        _connection = connection;
        _statement = statement;
        _handle = statement.DangerousGetHandle();
        var count = raw.sqlite3_bind_parameter_count(statement);
        for (var i = 1; i <= count; i++)
        {
            var name = raw.sqlite3_bind_parameter_name(statement, i).utf8_to_string();
            if (name is not null) _parameters[name] = i;
        }
    }

    /// <summary>Prepares <paramref name="sql"/> on the open <paramref name="connection"/>.</summary>
    /// <exception cref="SqliteException">The statement does not compile.</exception>
    public static SqliteStatement Prepare(SqliteConnection connection, string sql)
    {
        var rc = raw.sqlite3_prepare_v3(connection.Handle, sql, raw.SQLITE_PREPARE_PERSISTENT, out var statement);
        if (rc != raw.SQLITE_OK || statement is null)
        {
            statement?.Dispose();
            SqliteException.ThrowExceptionForRC(rc == raw.SQLITE_OK ? raw.SQLITE_MISUSE : rc, connection.Handle);
            throw new UnreachableException();
        }

        return new SqliteStatement(connection, statement);
    }

    /// <summary>The row the statement stands on after <see cref="Step"/> returned true.</summary>
    public StatementRow Row => new(_statement, _handle);

    /// <summary>Binds <paramref name="value"/> as TEXT.</summary>
    public void BindText(string parameter, string value)
    {
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        Span<byte> buffer = length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            // SQLite copies the value as it binds it (SQLITE_TRANSIENT), so the buffer can go back at once.
            Check(raw.sqlite3_bind_text(_statement, Index(parameter), buffer[..Encoding.UTF8.GetBytes(value, buffer)]));
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Binds <paramref name="value"/> as an INTEGER.</summary>
    public void BindInt64(string parameter, long value) => Check(raw.sqlite3_bind_int64(_statement, Index(parameter), value));

    /// <summary>Binds <paramref name="value"/> as a BLOB; SQLite copies it.</summary>
    public void BindBlob(string parameter, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_blob(_statement, Index(parameter), value));

    /// <summary>Binds <paramref name="value"/> as an INTEGER and returns the statement.</summary>
    public SqliteStatement Set(string parameter, long value)
    {
        BindInt64(parameter, value);
        return this;
    }

    /// <summary>Binds <paramref name="value"/> as an INTEGER, or NULL, and returns the statement.</summary>
    public SqliteStatement Set(string parameter, long? value) => value is { } number ? Set(parameter, number) : SetNull(parameter);

    /// <summary>Binds <paramref name="value"/> as TEXT, or NULL, and returns the statement.</summary>
    public SqliteStatement Set(string parameter, string? value)
    {
        if (value is null) return SetNull(parameter);
        BindText(parameter, value);
        return this;
    }

    /// <summary>Binds <paramref name="value"/> as a BLOB, or NULL, and returns the statement.</summary>
    public SqliteStatement Set(string parameter, byte[]? value)
    {
        if (value is null) return SetNull(parameter);
        BindBlob(parameter, value);
        return this;
    }

    /// <summary>Binds NULL and returns the statement.</summary>
    public SqliteStatement SetNull(string parameter)
    {
        Check(raw.sqlite3_bind_null(_statement, Index(parameter)));
        return this;
    }

    /// <summary>Runs the statement to its first row, if any, and resets it: for statements that return no rows.</summary>
    public void Execute()
    {
        try
        {
            Step();
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>Runs the statement and returns the first column of its first row as an integer; resets it.</summary>
    /// <exception cref="InvalidOperationException">The statement returned no row.</exception>
    public long ExecuteInt64()
    {
        try
        {
            return Step() ? Row.GetInt64(0) : throw new InvalidOperationException("The statement returned no row.");
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>
    /// Runs the statement and reads the first two columns of its first row as integers; false, with
    /// both zero, when it returned no row. Resets it.
    /// </summary>
    public bool TryExecute(out long first, out long second)
    {
        try
        {
            if (!Step())
            {
                first = second = 0;
                return false;
            }

            first = Row.GetInt64(0);
            second = Row.GetInt64(1);
            return true;
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>
    /// Moves to the next row: true when there is one, false when the statement is done. A database
    /// locked by another connection is tried again, as Microsoft.Data.Sqlite does, until the
    /// connection's timeout has passed.
    /// </summary>
    /// <exception cref="SqliteException">SQLite failed, or stayed busy past the timeout.</exception>
    /// <remarks>Optimized at first call, not tiered: a listing steps once per row (see SqliteMetadataStore.List).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Step()
    {
        long started = 0;
        var wait = 1;
        while (true)
        {
            var rc = SqliteNative.Available ? SqliteNative.Step(_handle) : raw.sqlite3_step(_statement);
            if (rc == raw.SQLITE_ROW) return true;
            if (rc == raw.SQLITE_DONE) return false;
            if ((rc & 0xFF) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED)
            {
                if (started == 0) started = Stopwatch.GetTimestamp();
                var timeout = _connection.DefaultTimeout;
                if (timeout == 0 || Stopwatch.GetElapsedTime(started).TotalSeconds < timeout)
                {
                    raw.sqlite3_reset(_statement);
                    Thread.Sleep(wait);
                    wait = Math.Min(wait * 2, MaxBusyWaitMilliseconds);
                    continue;
                }
            }

            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
            return false;
        }
    }

    /// <summary>
    /// Steps once without waiting: true when SQLite ran it (a row or done), false when the database is
    /// locked by another connection. The caller resets the statement either way.
    /// </summary>
    /// <exception cref="SqliteException">SQLite failed otherwise.</exception>
    public bool TryStep()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc is raw.SQLITE_ROW or raw.SQLITE_DONE) return true;
        if ((rc & 0xFF) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED) return false;
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        return false;
    }

    /// <summary>Ends the run: the statement lets go of its snapshot and its bound values. Never throws.</summary>
    public void Reset()
    {
        // The error, if any, was reported by the step that met it.
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
    }

    public void Dispose() => _statement.Dispose();

    private int Index(string parameter) =>
        _parameters.TryGetValue(parameter, out var index) ? index : throw new ArgumentException($"The statement has no parameter '{parameter}'.", nameof(parameter));

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
    }
}

/// <summary>The current row of a <see cref="SqliteStatement"/>; its values are valid until the statement steps or resets.</summary>
/// <remarks>Read through <see cref="SqliteNative"/> when it is available, else through SQLitePCLRaw.</remarks>
internal readonly struct StatementRow(sqlite3_stmt statement, nint handle) : ISqliteRow
{
    public bool IsNull(int ordinal) =>
        (SqliteNative.Available ? SqliteNative.ColumnType(handle, ordinal) : raw.sqlite3_column_type(statement, ordinal)) == raw.SQLITE_NULL;

    public long GetInt64(int ordinal) =>
        SqliteNative.Available ? SqliteNative.ColumnInt64(handle, ordinal) : raw.sqlite3_column_int64(statement, ordinal);

    public int GetInt32(int ordinal) => (int)GetInt64(ordinal);

    // SQLite hands TEXT out as its UTF-8 bytes when asked for a blob.
    public string GetString(int ordinal) => Encoding.UTF8.GetString(GetBlob(ordinal));

    public ReadOnlySpan<byte> GetBlob(int ordinal) =>
        SqliteNative.Available ? SqliteNative.ColumnBlob(handle, ordinal) : raw.sqlite3_column_blob(statement, ordinal);
}
