using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The default <see cref="IMetadataStore"/>: one SQLite database in WAL mode.
/// </summary>
/// <remarks>
/// One writer connection takes every write transaction in turn, each begun with
/// <c>BEGIN IMMEDIATE</c> so that a transaction that reads before it writes never fails to upgrade
/// its lock; a small pool of reader connections serves reads beside it from their own snapshots.
/// Commands are prepared once per connection and reused. Blob names are stored as their UTF-8 bytes,
/// so ordering and prefix ranges are byte-wise (ordinal). Chunk reference counts change in the same
/// transaction as the blob rows that hold them, which is what makes the store crash-safe: a chunk
/// whose count falls to zero is only marked, and collected after a grace period.
/// </remarks>
public sealed partial class SqliteMetadataStore : IMetadataStore, IPooledInlineSource, IAccessCommitSignal, IDisposable
{
    private const int SqlitePerm = 3;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteNoMemory = 7;
    private const int SqliteReadOnly = 8;
    private const int SqliteIOError = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteNotADatabase = 26;

    // The most queued writes one group commit takes; the rest wait for the next, so no batch grows without bound.
    private const int MaxBatch = 256;

    private readonly SqliteMetadataStoreOptions _options;
    private readonly string _databasePath;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentQueue<PendingWrite> _pendingWrites = new();
    private readonly SqliteConnectionPool _readers;
    private volatile SqliteSession? _writer;
    private volatile bool _disposed;

    /// <summary>Creates a store over the database file named in <paramref name="options"/>; <see cref="InitializeAsync"/> opens it.</summary>
    /// <exception cref="ArgumentException">The path is empty, the busy timeout is not positive, or the synchronous mode is unknown.</exception>
    public SqliteMetadataStore(SqliteMetadataStoreOptions options)
        : this(options, ReaderCapacity)
    {
    }

    /// <summary>A store with another bound on its reader connections (benchmarks compare bounds).</summary>
    internal SqliteMetadataStore(SqliteMetadataStoreOptions options, int readerCapacity)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            throw new ArgumentException("SqliteMetadataStoreOptions.DatabasePath must name the database file; it is empty.", nameof(options));
        }

        if (options.BusyTimeout <= TimeSpan.Zero || options.BusyTimeout.TotalSeconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BusyTimeout, "SqliteMetadataStoreOptions.BusyTimeout must be positive.");
        }

        if (!Enum.IsDefined(options.SynchronousMode))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.SynchronousMode, "SqliteMetadataStoreOptions.SynchronousMode must be Full or Normal.");
        }

        _options = options;
        _databasePath = Path.GetFullPath(options.DatabasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = OpenTarget(_databasePath),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,

            // The store keeps its own connections for its whole life; unpooled, closing them really releases the file.
            Pooling = false,

            // Microsoft.Data.Sqlite retries SQLITE_BUSY until this many seconds have passed (0 would mean forever).
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();

        // Two reader connections per core (at least 4, at most 16). Readers read by system calls, not through
        // a memory map (see SqliteSession.ReaderPragmas), so one more connection costs only its page cache
        // (4 MiB at most, pages still in the write-ahead log); a reader whose thread is descheduled mid-read
        // then holds up fewer reads. On 2 cores, first reads of blobs just written (compare get-first, medians
        // of 3 runs, two alternations, 8 tasks): 4 KiB 1.23x and 0.74x with 4 connections against 0.47x and
        // 0.86x with 2; 64 KiB 0.58x and 0.52x against 0.23x and 0.40x. The pool hands out the most recently
        // used connection first, so a quiet store keeps using, and warming, the same few (see SqliteConnectionPool).
        _readers = new SqliteConnectionPool(() => OpenSession(reader: true), readerCapacity);
    }

    /// <summary>How many reader connections the store keeps at most: two per core, at least 4 and at most 16.</summary>
    internal static int ReaderCapacity => Math.Clamp(2 * Environment.ProcessorCount, 4, 16);

    /// <summary>Reader connections open now, idle or in use; for tests of the bound.</summary>
    internal int OpenReaders => _readers.Count;

    /// <summary>Runs just before a write transaction asks for the database's write lock; tests use it to know a write is under way.</summary>
    internal Action? WriteTransactionStarting { get; set; }

    /// <summary>
    /// Runs, under the write lock, after every commit that flushed the write-ahead log to disk (every commit
    /// with <see cref="SynchronousMode.Full"/>, the durable ones with <see cref="SynchronousMode.Normal"/>):
    /// tests copy the database files there to know what a power cut would leave.
    /// </summary>
    internal Action? LogFlushed { get; set; }

    // True while a write made durable under SynchronousMode.Normal commits (with synchronous = FULL).
    private bool _flushingCommit;

    /// <summary>True when the commit about to be made flushes the log: always in Full mode, on request in Normal.</summary>
    private bool CommitFlushesLog => _options.SynchronousMode == SynchronousMode.Full || _flushingCommit;

    /// <summary>
    /// A write whose commit is durable when it returns, whatever <see cref="SqliteMetadataStoreOptions.SynchronousMode"/>
    /// says. Under <see cref="SynchronousMode.Normal"/> the commit runs with <c>synchronous = FULL</c>: SQLite then
    /// flushes the write-ahead log, which makes this commit and every one before it durable.
    /// </summary>
    private async ValueTask<TResult> WriteDurableAsync<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work, CancellationToken cancellationToken)
    {
        if (_options.SynchronousMode == SynchronousMode.Full) return await WriteAsync(state, work, cancellationToken).ConfigureAwait(false);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(
                () =>
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    var writer = _writer ?? throw NotInitialized();
                    try
                    {
                        writer.Execute("PRAGMA synchronous = FULL;");
                        _flushingCommit = true;
                        TryRunAlone(state, work, waitForLock: true, out var result);
                        return result;
                    }
                    catch (SqliteException ex)
                    {
                        throw Translate(ex);
                    }
                    finally
                    {
                        _flushingCommit = false;
                        writer.Execute("PRAGMA synchronous = NORMAL;");
                    }
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>How many writes wait in the queue for the next group commit; for tests.</summary>
    internal int QueuedWrites => _pendingWrites.Count;

    /// <inheritdoc />
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null) return;
            SqliteSession? session = null;
            try
            {
                var folder = Path.GetDirectoryName(_databasePath);
                if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
                session = OpenSession(reader: false);
                Migrations.Apply(session, _databasePath);
                _writer = session;
            }
            catch (SqliteException ex)
            {
                session?.Dispose();
                throw OpenFailure(ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                session?.Dispose();
                throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{_databasePath}' could not be opened: {ex.Message}", ex);
            }
            catch
            {
                session?.Dispose();
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask<string> GetStoreIdAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            0,
            static (session, _) => session.Scalar("SELECT store_id FROM store WHERE id = 1;") as string
                ?? throw new DataCorruptionException("The metadata database is damaged: the row with the store's id is missing."),
            snapshot: false,
            cancellationToken);

    /// <summary>The database file's full path.</summary>
    internal string DatabasePath => _databasePath;

    /// <summary>
    /// True when the database file exists and is not empty. False means that opening would make a new,
    /// empty store: the opener checks first that the chunks beside it belong to no store.
    /// </summary>
    internal bool HasDatabase
    {
        get
        {
            var file = new FileInfo(_databasePath);
            return file.Exists && file.Length > 0;
        }
    }

    /// <summary>Closes the store's connections; for owners that dispose synchronously. Same as <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Closes every connection and releases the database file, so that its folder can be deleted or
    /// the store opened again. Calls made afterwards throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;

        // A write under way finishes (and commits or rolls back) before its connection is closed.
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _readers.Dispose();
            if (_writer is { } writer)
            {
                _writer = null;
                writer.Dispose();

                // Pooling is off, so nothing should be pooled; clearing anyway keeps the file released should that ever change.
                SqliteConnection.ClearPool(writer.Connection);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// The database as SQLite is asked to open it. On Unix it goes through SQLite's <c>unix-excl</c> VFS: the
    /// store's first connection takes an exclusive lock on the file for this process, and from then on the
    /// connections of the process coordinate in memory (the WAL index lives in the heap; there is no
    /// <c>-shm</c> file), so beginning and ending a read costs no <c>fcntl</c> system call under a shared
    /// mutex. Another process cannot open the database while the store is open; the chunk folder's lock
    /// keeps a second store out anyway. A crash releases the lock with the process. Where it can,
    /// it opens <c>unix-excl</c> through <see cref="BufferedVfs"/>, which reads the pages of a large value
    /// and writes the log frames of a transaction in one system call instead of one or two a page.
    /// </summary>
    /// <remarks>Before the first database opens, SQLite's memory statistics are turned off (<see cref="SqliteMemoryStatistics"/>).</remarks>
    internal static string OpenTarget(string fullPath)
    {
        SqliteMemoryStatistics.EnsureApplied();
        return OperatingSystem.IsWindows()
            ? fullPath
            : "file://" + fullPath.Replace("%", "%25", StringComparison.Ordinal).Replace("?", "%3f", StringComparison.Ordinal).Replace("#", "%23", StringComparison.Ordinal) + "?vfs=" + BufferedVfs.Name;
    }

    private SqliteSession OpenSession(bool reader) => SqliteSession.Open(_connectionString, _options.SynchronousMode, _databasePath, reader);

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction on the writer connection. An exception it
    /// throws undoes its own changes and reaches its caller: a failed call changes nothing.
    /// </summary>
    /// <remarks>
    /// When the writer is free the work runs at once, alone, on the caller's thread when that is a pool
    /// thread (see <see cref="MayBlockCaller"/>), else on the pool. Writes that arrive
    /// while it is busy queue up, and the first of them to get the writer runs every queued piece in one
    /// transaction (group commit), each inside its own savepoint so that a failure undoes only its own
    /// piece; one commit, with one flush, then acknowledges them all. Nothing is acknowledged before the
    /// commit that holds it is durable. Once queued, a write is no longer cancellable: it may already be
    /// running in another caller's batch, and a caller must never hear "cancelled" about a committed change.
    /// </remarks>
    private ValueTask<TResult> WriteAsync<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work, CancellationToken cancellationToken)
    {
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            cancellationToken.ThrowIfCancellationRequested();
            if (_pendingWrites.IsEmpty && _writeLock.Wait(0, CancellationToken.None))
            {
                var handedOff = false;
                try
                {
                    // The database's own lock is tried without waiting: only a write of another process waits, and it waits on the pool.
                    if (MayBlockCaller && TryRunAlone(state, work, waitForLock: false, out var result)) return ValueTask.FromResult(result);
                    handedOff = true;
                    return RunAloneAsync(state, work);
                }
                finally
                {
                    if (!handedOff) _writeLock.Release();
                }
            }
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<TResult>(ex);
        }

        return WriteQueuedAsync(state, work);
    }

    /// <summary>
    /// True when the calling thread may wait out a commit's flush itself: a thread-pool thread without a
    /// synchronization context. Handing the work to another pool thread would cost a wake-up and a switch
    /// per write and free nothing; any other thread (a UI thread, a context that serializes its work) hands
    /// the work off. Waiting for a database lock another process holds is always handed off: SQLite waits by sleeping.
    /// </summary>
    private static bool MayBlockCaller => Thread.CurrentThread.IsThreadPoolThread && SynchronizationContext.Current is null;

    private async ValueTask<TResult> WriteQueuedAsync<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work)
    {
        var pending = new PendingWrite<TState, TResult>(state, work);
        _pendingWrites.Enqueue(pending);
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            // A batch run by another writer may have taken this one already. The semaphore resumes its
            // waiters on the thread pool, so the batch runs here unless a context brought it elsewhere.
            if (!pending.IsCompleted)
            {
                var batch = TakeBatch();
                if (!MayBlockCaller || !RunBatch(batch, waitForLock: false)) await Task.Run(() => RunBatch(batch, waitForLock: true)).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }

        return await pending.Task.ConfigureAwait(false);
    }

    /// <summary>Runs the work alone on the thread pool, waiting for the database's lock if need be, then releases the write lock the caller took.</summary>
    private async ValueTask<TResult> RunAloneAsync<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work)
    {
        try
        {
            return await Task.Run(() =>
            {
                TryRunAlone(state, work, waitForLock: true, out var result);
                return result;
            }).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// One piece of work in a transaction of its own; false, with nothing run, when the database's lock was
    /// taken and <paramref name="waitForLock"/> is false. The caller holds the write lock.
    /// </summary>
    private bool TryRunAlone<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work, bool waitForLock, out TResult result)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var writer = _writer ?? throw NotInitialized();
        WriteTransactionStarting?.Invoke();
        try
        {
            if (!Begin(writer, waitForLock))
            {
                result = default!;
                return false;
            }

            result = work(writer, state);
            CrashPoints.Reach(CrashPoints.MidTransaction);
            writer.Commit();
            if (LogFlushed is { } flushed && CommitFlushesLog) flushed();
            return true;
        }
        catch (SqliteException ex)
        {
            writer.Rollback();
            throw Translate(ex);
        }
        catch
        {
            writer.Rollback();
            throw;
        }
    }

    /// <summary>The queued writes the next group commit takes. The caller holds the write lock.</summary>
    private List<PendingWrite> TakeBatch()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < MaxBatch && _pendingWrites.TryDequeue(out var next)) batch.Add(next);
        return batch;
    }

    /// <summary>
    /// Runs the writes of <paramref name="batch"/> in one transaction, each in its own savepoint; false,
    /// with nothing run, when the database's lock was taken and <paramref name="waitForLock"/> is false.
    /// The caller holds the write lock.
    /// </summary>
    private bool RunBatch(List<PendingWrite> batch, bool waitForLock)
    {
        if (batch.Count == 0) return true;
        SqliteSession? writer = null;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            writer = _writer ?? throw NotInitialized();
            WriteTransactionStarting?.Invoke();
            if (!Begin(writer, waitForLock)) return false;
            if (batch.Count == 1)
            {
                batch[0].Run(writer, this);
                if (batch[0].Failed)
                {
                    // A lone piece of work that failed leaves nothing to commit.
                    writer.Rollback();
                    batch[0].Complete();
                    return true;
                }
            }
            else
            {
                foreach (var write in batch)
                {
                    writer.Savepoint();
                    write.Run(writer, this);
                    if (write.Failed) writer.RollbackToSavepoint();
                    writer.ReleaseSavepoint();
                }
            }

            CrashPoints.Reach(CrashPoints.MidTransaction);
            writer.Commit();
            if (LogFlushed is { } flushed && CommitFlushesLog) flushed();
        }
        catch (Exception ex)
        {
            // The transaction as a whole failed (busy, I/O, disposed): nothing of the batch was committed.
            writer?.Rollback();
            var failure = ex is SqliteException sqlite ? Translate(sqlite) : ex;
            foreach (var write in batch) write.Fail(failure);
            return true;
        }

        foreach (var write in batch) write.Complete();
        return true;
    }

    /// <summary>Begins the write transaction: waiting for the database's lock, or only when it is free at once.</summary>
    private static bool Begin(SqliteSession writer, bool waitForLock)
    {
        if (!waitForLock) return writer.TryBeginWrite();
        writer.BeginWrite();
        return true;
    }

    /// <summary>True for the SQLite errors that doom the whole transaction, not just the statement: busy, locked, out of memory, I/O, corrupt, full, not a database.</summary>
    private static bool DoomsTransaction(SqliteException ex) => (ex.SqliteErrorCode & 0xFF) is SqliteBusy or SqliteLocked or SqliteNoMemory or SqliteIOError or SqliteCorrupt or SqliteFull or SqliteNotADatabase;

    /// <summary>A piece of write work waiting in the queue, and its caller's task.</summary>
    private abstract class PendingWrite
    {
        public abstract bool IsCompleted { get; }

        public abstract bool Failed { get; }

        /// <summary>Runs the work, keeping an exception it throws as its own result; rethrows what dooms the whole transaction.</summary>
        public abstract void Run(SqliteSession session, SqliteMetadataStore store);

        /// <summary>Hands the result, or the work's own exception, to the caller once the transaction has ended.</summary>
        public abstract void Complete();

        /// <summary>The transaction failed as a whole: nothing of this work was committed.</summary>
        public abstract void Fail(Exception failure);
    }

    private sealed class PendingWrite<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work) : PendingWrite
    {
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TResult? _result;
        private Exception? _error;

        public Task<TResult> Task => _completion.Task;

        public override bool IsCompleted => _completion.Task.IsCompleted;

        public override bool Failed => _error is not null;

        public override void Run(SqliteSession session, SqliteMetadataStore store)
        {
            try
            {
                _result = work(session, state);
            }
            catch (SqliteException ex) when (DoomsTransaction(ex))
            {
                throw;
            }
            catch (SqliteException ex)
            {
                _error = store.Translate(ex);
            }
            catch (Exception ex)
            {
                _error = ex;
            }
        }

        public override void Complete()
        {
            if (_error is null) _completion.TrySetResult(_result!);
            else _completion.TrySetException(_error);
        }

        public override void Fail(Exception failure) => _completion.TrySetException(_error ?? failure);
    }

    /// <summary>A write transaction without a result; see <see cref="WriteAsync{TState, TResult}"/>.</summary>
    private async ValueTask WriteAsync<TState>(TState state, Action<SqliteSession, TState> work, CancellationToken cancellationToken) =>
        await WriteAsync(
            (Work: work, State: state),
            static (session, call) =>
            {
                call.Work(session, call.State);
                return true;
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Runs <paramref name="work"/> on a pooled reader connection; with <paramref name="snapshot"/>, inside
    /// a read transaction so that its statements see one consistent state. When a reader is free the work
    /// runs at once on the caller's thread (SQLite is synchronous underneath) and the result is ready when
    /// this returns; when all are busy it waits for one without blocking the thread. Failures come back
    /// through the task, as from any async call.
    /// </summary>
    private ValueTask<TResult> ReadAsync<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work, bool snapshot, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            CheckReadable();
            if (TryRentReader(out var session)) return ValueTask.FromResult(Read(session, state, work, snapshot));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<TResult>(ex);
        }

        return ReadWhenFreeAsync(state, work, snapshot, cancellationToken);
    }

    private async ValueTask<TResult> ReadWhenFreeAsync<TState, TResult>(TState state, Func<SqliteSession, TState, TResult> work, bool snapshot, CancellationToken cancellationToken)
    {
        SqliteSession session;
        try
        {
            session = await _readers.RentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }

        return Read(session, state, work, snapshot);
    }

    private void CheckReadable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writer is null) throw NotInitialized();
    }

    private bool TryRentReader([NotNullWhen(true)] out SqliteSession? session)
    {
        try
        {
            return _readers.TryRent(out session);
        }
        catch (SqliteException ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Runs the work on a rented reader and gives the reader back (or closes it, after an error of SQLite's).</summary>
    private TResult Read<TState, TResult>(SqliteSession session, TState state, Func<SqliteSession, TState, TResult> work, bool snapshot)
    {
        var healthy = true;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (snapshot) session.BeginRead();
            var result = work(session, state);
            if (snapshot) session.Commit();
            return result;
        }
        catch (SqliteException ex)
        {
            healthy = false;
            throw Translate(ex);
        }
        finally
        {
            session.Rollback();
            if (healthy) _readers.Return(session);
            else _readers.Discard(session);
        }
    }

    /// <summary>Reads a PRAGMA on the writer or on a reader connection, for tests of the connection settings.</summary>
    internal async ValueTask<object?> ReadPragmaAsync(ConnectionPragma pragma, bool onWriter)
    {
        var sql = pragma switch
        {
            ConnectionPragma.JournalMode => "PRAGMA journal_mode;",
            ConnectionPragma.Synchronous => "PRAGMA synchronous;",
            ConnectionPragma.UserVersion => "PRAGMA user_version;",
            ConnectionPragma.MmapSize => "PRAGMA mmap_size;",
            _ => throw new ArgumentOutOfRangeException(nameof(pragma)),
        };
        if (!onWriter) return await ReadAsync(sql, static (session, text) => session.Scalar(text), snapshot: false, CancellationToken.None).ConfigureAwait(false);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return (_writer ?? throw NotInitialized()).Scalar(sql);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>A per-connection setting <see cref="ReadPragmaAsync"/> can read.</summary>
    internal enum ConnectionPragma
    {
        JournalMode,
        Synchronous,
        UserVersion,
        MmapSize,
    }

    private BlobStorageException Translate(SqliteException ex) => (ex.SqliteErrorCode & 0xFF) switch
    {
        SqliteBusy or SqliteLocked => new BlobStorageException(
            BlobErrorCode.StoreBusy,
            string.Create(CultureInfo.InvariantCulture, $"The metadata database '{_databasePath}' stayed locked by another connection for longer than the busy timeout ({_options.BusyTimeout.TotalSeconds:0.###} s); nothing was changed."),
            ex),
        SqliteCorrupt or SqliteNotADatabase => new DataCorruptionException($"The metadata database '{_databasePath}' is damaged: {ex.Message}", ex),
        SqliteFull => new BlobStorageException(
            BlobErrorCode.InsufficientStorage,
            $"The disk holding the metadata database '{_databasePath}' is full ({ex.Message}); nothing was changed. Deleting blobs and running maintenance frees space.",
            ex),
        SqlitePerm or SqliteReadOnly => new BlobStorageException(BlobErrorCode.AccessDenied, $"The metadata database '{_databasePath}' cannot be written: {ex.Message}. Check the permissions of the file and its folder.", ex),
        SqliteIOError => new BlobStorageException(BlobErrorCode.IOError, $"The disk reported an error in the metadata database '{_databasePath}': {ex.Message}", ex),
        _ => new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{_databasePath}' failed: {ex.Message}", ex),
    };

    private BlobStorageException OpenFailure(SqliteException ex) => (ex.SqliteErrorCode & 0xFF) switch
    {
        SqliteBusy or SqliteLocked or SqliteFull or SqlitePerm or SqliteReadOnly => Translate(ex),
        SqliteCorrupt or SqliteNotADatabase => new BlobStorageException(
            BlobErrorCode.StoreUnavailable,
            $"The metadata database '{_databasePath}' could not be opened: the file is damaged or is not a SQLite database ({ex.Message}).",
            ex),
        _ => new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{_databasePath}' could not be opened: {ex.Message}", ex),
    };

    private static InvalidOperationException NotInitialized() =>
        new("The metadata store has not been initialized; call InitializeAsync first.");

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private static long Ticks(DateTimeOffset time) => time.UtcTicks;

    internal static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    private static long? NullableTicks(DateTimeOffset? time) => time?.UtcTicks;
}
