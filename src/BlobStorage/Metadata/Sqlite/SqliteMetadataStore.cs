using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The default <see cref="IMetadataStore"/>: one SQLite database in WAL mode. One writer connection
/// takes every write transaction in turn (each begun with <c>BEGIN IMMEDIATE</c>, so a transaction
/// that reads before it writes cannot fail on a lock upgrade); a small pool of reader connections
/// serves reads beside it. Commands are prepared once per connection and reused. Blob names are
/// stored as their UTF-8 bytes so that ordering and prefix ranges are byte-wise (ordinal).
/// </summary>
public sealed partial class SqliteMetadataStore : IMetadataStore
{
    private const int MaxPooledReaders = 8;
    private readonly SqliteMetadataStoreOptions _options;
    private readonly string _connectionString;
    private const int MaxBatch = 256;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentQueue<PendingWrite> _pendingWrites = new();
    private readonly ConcurrentBag<SqliteSession> _readers = [];
    private SqliteSession? _writer;
    private int _disposed;

    /// <summary>Creates a store over the database file in the options; <see cref="InitializeAsync"/> opens it.</summary>
    public SqliteMetadataStore(SqliteMetadataStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DatabasePath, "options.DatabasePath");
        _options = options;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(options.DatabasePath),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // The store pools its own connections and must really close them on dispose.
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <inheritdoc />
    public ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (_writer is not null) return ValueTask.CompletedTask;
        var directory = Path.GetDirectoryName(Path.GetFullPath(_options.DatabasePath));
        if (directory is not null) Directory.CreateDirectory(directory);
        SqliteSession? session = null;
        try
        {
            session = new SqliteSession(_connectionString, _options.SynchronousMode, _options.BusyTimeout);
            var mode = session.Command("PRAGMA journal_mode = WAL;").ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{_options.DatabasePath}' could not be put in WAL mode (it is in '{mode}').");
            }

            Migrations.Apply(session, _options.DatabasePath);

            // Touch every table's root page now, so a damaged file fails at open with a clear error, not at the first call.
            foreach (var table in new[] { "containers", "blobs", "chunks", "stats", "uploads", "parts", "inline_content" })
            {
                session.Command($"SELECT 1 FROM {table} LIMIT 1;").ExecuteScalar();
            }

            _writer = session;
            return ValueTask.CompletedTask;
        }
        catch (SqliteException ex)
        {
            session?.Dispose();
            throw Migrations.IsCorruption(ex)
                ? new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{_options.DatabasePath}' is damaged or not a SQLite database: {ex.Message}", ex)
                : Translate(ex);
        }
        catch
        {
            session?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction on the writer connection; an exception it
    /// throws rolls back its own changes and is rethrown to its caller. Writes arriving while a
    /// transaction commits are batched (group commit): the next writer to get the connection runs
    /// every waiting piece of work in one transaction, each inside its own savepoint, and one commit,
    /// with one flush, acknowledges them all. No work is acknowledged before its commit is durable.
    /// </summary>
    private async ValueTask<T> WriteAsync<T>(Func<SqliteSession, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_writer is null) throw NotInitialized();
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(work);
        _pendingWrites.Enqueue(pending);

        // Not cancellable from here: once queued, the work may run in another caller's batch, and a
        // caller must never be told "cancelled" about a change that was committed.
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!pending.IsCompleted) RunBatch();
        }
        finally
        {
            _writeLock.Release();
        }

        return await pending.Task.ConfigureAwait(false);
    }

    private void RunBatch()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < MaxBatch && _pendingWrites.TryDequeue(out var next)) batch.Add(next);
        if (batch.Count == 0) return;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var writer = _writer ?? throw NotInitialized();
            using var transaction = writer.Connection.BeginTransaction(deferred: false);
            if (batch.Count == 1)
            {
                batch[0].Run(writer, transaction);
                if (batch[0].Failed)
                {
                    // A lone piece of work that failed leaves nothing to commit.
                    transaction.Rollback();
                    batch[0].Complete(MapError);
                    return;
                }
            }
            else
            {
                foreach (var write in batch)
                {
                    transaction.Save("w");
                    write.Run(writer, transaction);
                    if (write.Failed) transaction.Rollback("w");
                    transaction.Release("w");
                }
            }

            CrashPoints.Reach(CrashPoints.MidTransaction);
            transaction.Commit();
            foreach (var write in batch) write.Complete(MapError);
        }
        catch (Exception ex)
        {
            var failure = ex is SqliteException sqlite ? Translate(sqlite) : ex;
            foreach (var write in batch) write.Fail(failure);
        }
    }

    private Exception MapError(Exception ex) => ex is SqliteException sqlite ? Translate(sqlite) : ex;

    /// <summary>A piece of write work waiting for a transaction, and its caller's task.</summary>
    private abstract class PendingWrite
    {
        public abstract bool IsCompleted { get; }

        public abstract bool Failed { get; }

        public abstract void Run(SqliteSession session, SqliteTransaction transaction);

        /// <summary>Hands the result or the work's own exception (through <paramref name="map"/>) to the caller, after the commit.</summary>
        public abstract void Complete(Func<Exception, Exception> map);

        /// <summary>The transaction failed as a whole: nothing of this work was committed.</summary>
        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteSession, SqliteTransaction, T> work) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _completion.Task;

        public override bool IsCompleted => _completion.Task.IsCompleted;

        public override bool Failed => _error is not null;

        public override void Run(SqliteSession session, SqliteTransaction transaction)
        {
            try
            {
                _result = work(session, transaction);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is 5 or 6 or 11 or 26 or 13 or 10)
            {
                // Busy, corrupt, full or I/O: the whole transaction is in doubt, not just this work.
                throw;
            }
            catch (Exception ex)
            {
                _error = ex;
            }
        }

        public override void Complete(Func<Exception, Exception> map)
        {
            if (_error is not null) _completion.TrySetException(map(_error));
            else _completion.TrySetResult(_result!);
        }

        public override void Fail(Exception exception) => _completion.TrySetException(_error ?? exception);
    }

    /// <summary>Runs <paramref name="work"/> on a pooled reader connection (a consistent snapshot when it runs in a transaction).</summary>
    private T Read<T>(Func<SqliteSession, T> work)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_writer is null) throw NotInitialized();
        if (!_readers.TryTake(out var session))
        {
            try
            {
                session = new SqliteSession(_connectionString, _options.SynchronousMode, _options.BusyTimeout);
            }
            catch (SqliteException ex)
            {
                throw Translate(ex);
            }
        }

        try
        {
            return work(session);
        }
        catch (SqliteException ex)
        {
            session.Dispose();
            session = null;
            throw Translate(ex);
        }
        finally
        {
            if (session is not null)
            {
                if (_disposed == 0 && _readers.Count < MaxPooledReaders) _readers.Add(session);
                else session.Dispose();
            }
        }
    }

    private ValueTask<T> ReadAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(work));
    }

    private BlobStorageException Translate(SqliteException ex) => ex.SqliteErrorCode switch
    {
        5 or 6 => new BlobStorageException(BlobErrorCode.StoreBusy, $"The metadata database '{_options.DatabasePath}' stayed locked by another connection for longer than the busy timeout ({_options.BusyTimeout}); nothing was changed.", ex),
        11 or 26 => new DataCorruptionException($"The metadata database '{_options.DatabasePath}' is damaged: {ex.Message}", ex),
        _ => new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{_options.DatabasePath}' failed: {ex.Message}", ex),
    };

    private static InvalidOperationException NotInitialized() =>
        new("The metadata store has not been initialized; call InitializeAsync first.");

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _writer?.Dispose();
            _writer = null;
            while (_readers.TryTake(out var reader)) reader.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // ---- encoding helpers ----

    private static byte[] NameBytes(string name) => Encoding.UTF8.GetBytes(name);

    private static long Ticks(DateTimeOffset time) => time.UtcTicks;

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    private static string? ToJson(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? null : JsonSerializer.Serialize(values);

    private static IReadOnlyDictionary<string, string> FromJson(SqliteDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal)) return Internal.MetadataRules.Empty;
        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(ordinal)) ?? [];
        return new Dictionary<string, string>(values, StringComparer.Ordinal);
    }

    private static SqliteCommand With(SqliteCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
