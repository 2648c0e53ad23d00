using System.Diagnostics.CodeAnalysis;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The reader connections. WAL lets them read beside the writer, each from its own snapshot. At most
/// <see cref="Capacity"/> exist: a read takes an idle one, or opens one while there are fewer, or
/// else waits, without blocking its thread, for one to come back.
/// </summary>
/// <remarks>
/// Why a bound: each connection has a page cache of its own, which it fills from the write-ahead log
/// by system calls the first time it reads a page. Blobs just written sit in the log, so every
/// connection more is one more copy of the hot pages to read in and keep. Why not a tight one: a read
/// is CPU work, but its thread can be descheduled while it holds a connection, and reads beyond the
/// bound then wait behind it. Idle connections are handed out last-used first, so a store that reads
/// on a few threads keeps using (and warming) the same few. A connection is kept for the store's
/// life, with its prepared statements and its warm cache.
/// </remarks>
internal sealed class SqliteConnectionPool : IDisposable
{
    private readonly Func<SqliteSession> _open;
    private readonly Stack<SqliteSession> _idle = new();
    private readonly Queue<TaskCompletionSource<SqliteSession?>> _waiting = new();
    private readonly Lock _gate = new();
    private int _count;
    private bool _disposed;

    public SqliteConnectionPool(Func<SqliteSession> open, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _open = open;
        Capacity = capacity;
    }

    /// <summary>The most connections open at once.</summary>
    public int Capacity { get; }

    /// <summary>Connections open now (idle, in use, or being opened).</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _count;
        }
    }

    /// <summary>An idle connection, or a new one while there are fewer than <see cref="Capacity"/>; false when all are in use.</summary>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">A new connection could not be opened.</exception>
    public bool TryRent([NotNullWhen(true)] out SqliteSession? session)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idle.TryPop(out session)) return true;
            if (_count >= Capacity) return false;
            _count++;
        }

        session = OpenCounted();
        return true;
    }

    /// <summary>A connection as soon as one is free; waits without blocking the thread.</summary>
    public async ValueTask<SqliteSession> RentAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<SqliteSession?> waiter;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idle.TryPop(out var idle)) return idle;
            if (_count < Capacity)
            {
                _count++;
                waiter = null!;
            }
            else
            {
                waiter = new TaskCompletionSource<SqliteSession?>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Enqueue(waiter);
            }
        }

        if (waiter is null) return OpenCounted();
        SqliteSession? handed;
        using (cancellationToken.UnsafeRegister(static (w, token) => ((TaskCompletionSource<SqliteSession?>)w!).TrySetCanceled(token), waiter))
        {
            handed = await waiter.Task.ConfigureAwait(false);
        }

        // Null: a connection was closed and its place handed over, to be filled with a new one.
        return handed ?? OpenCounted();
    }

    /// <summary>Gives a connection back, to a waiting read if there is one.</summary>
    public void Return(SqliteSession session)
    {
        if (session.InTransaction)
        {
            Discard(session);
            return;
        }

        lock (_gate)
        {
            if (!_disposed)
            {
                while (_waiting.TryDequeue(out var waiter))
                {
                    if (waiter.TrySetResult(session)) return;
                }

                _idle.Push(session);
                return;
            }

            _count--;
        }

        session.Dispose();
    }

    /// <summary>Closes a connection that failed; a waiting read gets its place.</summary>
    public void Discard(SqliteSession session)
    {
        session.Dispose();
        lock (_gate)
        {
            while (!_disposed && _waiting.TryDequeue(out var waiter))
            {
                if (waiter.TrySetResult(null)) return;
            }

            _count--;
        }
    }

    /// <summary>Closes the idle connections and fails the waiting reads; those rented now are closed when they come back.</summary>
    public void Dispose()
    {
        SqliteSession[] idle;
        TaskCompletionSource<SqliteSession?>[] waiting;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
            _count -= idle.Length;
            waiting = [.. _waiting];
            _waiting.Clear();
        }

        foreach (var session in idle) session.Dispose();
        foreach (var waiter in waiting) waiter.TrySetException(new ObjectDisposedException(nameof(SqliteConnectionPool)));
    }

    /// <summary>Opens a connection whose place is already counted; gives the place back if it cannot.</summary>
    private SqliteSession OpenCounted()
    {
        try
        {
            return _open();
        }
        catch
        {
            lock (_gate)
            {
                // The place goes to a waiting read, which tries to open one itself, or is freed.
                while (!_disposed && _waiting.TryDequeue(out var waiter))
                {
                    if (waiter.TrySetResult(null)) throw;
                }

                _count--;
            }

            throw;
        }
    }
}
