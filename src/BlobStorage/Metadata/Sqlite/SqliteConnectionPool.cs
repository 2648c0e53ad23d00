namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The reader connections. WAL lets them read beside the writer, each from its own snapshot; a
/// connection is opened when none is idle and kept (up to <see cref="Capacity"/>) so its prepared
/// commands are reused.
/// </summary>
internal sealed class SqliteConnectionPool : IDisposable
{
    private readonly Func<SqliteSession> _open;
    private readonly Stack<SqliteSession> _idle = new();
    private readonly Lock _gate = new();
    private bool _disposed;

    public SqliteConnectionPool(Func<SqliteSession> open, int capacity)
    {
        _open = open;
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>An idle connection, or a new one.</summary>
    public SqliteSession Rent()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idle.TryPop(out var session)) return session;
        }

        return _open();
    }

    /// <summary>Gives a connection back; it is closed when the pool is full or disposed.</summary>
    public void Return(SqliteSession session)
    {
        lock (_gate)
        {
            if (!_disposed && _idle.Count < Capacity && !session.InTransaction)
            {
                _idle.Push(session);
                return;
            }
        }

        session.Dispose();
    }

    /// <summary>Closes the idle connections; those rented now are closed when they come back.</summary>
    public void Dispose()
    {
        SqliteSession[] idle;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
        }

        foreach (var session in idle) session.Dispose();
    }
}
