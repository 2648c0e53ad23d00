using System.Collections.Concurrent;
using System.Data;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.PostgreSql.Internal;
using Npgsql;

namespace BlobStorage.PostgreSql;

/// <summary>
/// An <see cref="IMetadataStore"/> in PostgreSQL, so that several processes (and machines) share one store: the same
/// contract as the default SQLite store, in a schema of its own that the store creates and migrates.
/// </summary>
/// <remarks>
/// <para>
/// Every change is one transaction at READ COMMITTED that first takes the row lock of the schema's single statistics
/// row (<c>SELECT ... FOR UPDATE</c>): writers, in this process or any other, run one after the other, as SQLite's
/// single writer does, and each statement after the lock sees every commit made before it. That is what makes
/// conditions (<c>IfMatch</c>, <c>IfNoneMatch = "*"</c>), multipart completion, reference counts and statistics
/// race-free across processes without SERIALIZABLE retries, and why no two writers can deadlock: they all queue on
/// the same row first. Reads take no lock; those that must see one state (a listing page, the statistics) run in a
/// REPEATABLE READ, read-only transaction.
/// </para>
/// <para>
/// Small blobs are kept whole in the database as SQLite keeps them: in a table of their own (<c>inline_content</c>),
/// shared by copies through a reference count, with an XxHash3 checksum verified on every read.
/// </para>
/// <para>
/// Connections come from an <see cref="NpgsqlDataSource"/> (Npgsql's pool). A server that cannot be reached, refused
/// credentials or a wrong database surface as <see cref="BlobStorageException"/> with
/// <see cref="BlobErrorCode.StoreUnavailable"/> carrying Npgsql's error; the pool opens new connections once the
/// server is back, so the store is usable again without being reopened.
/// </para>
/// </remarks>
public sealed partial class PostgreSqlMetadataStore : IMetadataStore, IDisposable
{
    /// <summary>The schema used when none is given.</summary>
    public const string DefaultSchema = "blobstorage";

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _schema;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, string> _sql = new(StringComparer.Ordinal);
    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Creates a store over the database <paramref name="connectionString"/> names; <see cref="InitializeAsync"/> creates or migrates its schema.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="schema">The schema the store's tables live in (created when missing); <see cref="DefaultSchema"/> when null.</param>
    /// <exception cref="ArgumentException">The schema name is empty or longer than 63 characters.</exception>
    /// <exception cref="BlobStorageException">The connection string cannot be parsed (<see cref="BlobErrorCode.StoreUnavailable"/>).</exception>
    public PostgreSqlMetadataStore(string connectionString, string? schema = null)
        : this(CreateDataSource(connectionString), ownsDataSource: true, schema)
    {
    }

    /// <summary>Creates a store over the database of <paramref name="dataSource"/>, which the caller keeps and disposes.</summary>
    /// <param name="dataSource">Npgsql's data source (and pool), for example one registered in DI.</param>
    /// <param name="schema">The schema the store's tables live in (created when missing); <see cref="DefaultSchema"/> when null.</param>
    /// <exception cref="ArgumentException">The schema name is empty or longer than 63 characters.</exception>
    public PostgreSqlMetadataStore(NpgsqlDataSource dataSource, string? schema = null)
        : this(dataSource ?? throw new ArgumentNullException(nameof(dataSource)), ownsDataSource: false, schema)
    {
    }

    private PostgreSqlMetadataStore(NpgsqlDataSource dataSource, bool ownsDataSource, string? schema)
    {
        schema ??= DefaultSchema;
        if (schema.Length == 0 || schema.Length > 63 || schema.Contains('\0', StringComparison.Ordinal))
        {
            if (ownsDataSource) dataSource.Dispose();
            throw new ArgumentException($"The schema name must be 1 to 63 characters without NUL; it is '{schema}' ({schema.Length} characters).", nameof(schema));
        }

        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _schema = schema;
        _prefix = QuoteIdentifier(schema) + ".";
    }

    /// <summary>The schema the store's tables live in.</summary>
    public string Schema => _schema;

    /// <summary>How many rows the enumerations read at a time; tests make it small to cross many pages.</summary>
    internal int EnumerationPageSize { get; set; } = 500;

    /// <inheritdoc />
    /// <remarks>
    /// Creates the schema and applies the numbered migrations missing from its <c>schema_migrations</c> table, all in
    /// one transaction under <c>pg_advisory_xact_lock</c> on a key made from the schema's name: two processes starting
    /// together migrate once, the second finding the work done when it gets the lock.
    /// </remarks>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_initialized) return;
        await RunAsync(
            this,
            static async (connection, store, cancellationToken) =>
            {
                var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
                await using var transactionScope = transaction.ConfigureAwait(false);
                var tx = new PgTx(connection, transaction, store);
                await PostgreSqlMigrations.ApplyAsync(tx, store._schema, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
        _initialized = true;
    }

    /// <inheritdoc />
    public ValueTask<string> GetStoreIdAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(
            0,
            static async (tx, _, ct) => await tx.Command("SELECT store_id FROM {S}.store WHERE id = 1;").ExecuteScalarAsync(ct).ConfigureAwait(false) as string
                ?? throw new DataCorruptionException("The metadata database is damaged: the row with the store's id is missing."),
            snapshot: false,
            cancellationToken);

    /// <summary>Closes the store; a data source the store made itself is disposed with it (one given by the caller is not).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsDataSource) await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the store, as <see cref="DisposeAsync"/> does, for owners that dispose synchronously (a service provider disposed with <c>Dispose</c>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsDataSource) _dataSource.Dispose();
    }

    /// <summary>The statement with the schema's quoted name in place of <c>{S}</c>; made once per statement text.</summary>
    internal string Sql(string text) => _sql.GetOrAdd(text, static (t, prefix) => t.Replace("{S}.", prefix, StringComparison.Ordinal), _prefix);

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction: READ COMMITTED, after taking the lock of the statistics row,
    /// which every writer takes first (see the type's remarks). An exception it throws rolls everything back.
    /// </summary>
    private ValueTask<TResult> WriteAsync<TState, TResult>(TState state, Func<PgTx, TState, CancellationToken, Task<TResult>> work, CancellationToken cancellationToken) =>
        RunAsync(
            (Store: this, State: state, Work: work),
            static async (connection, call, cancellationToken) =>
            {
                var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
                await using var transactionScope = transaction.ConfigureAwait(false);
                var tx = new PgTx(connection, transaction, call.Store);
                await tx.Command("SELECT 1 FROM {S}.stats WHERE id = 1 FOR UPDATE;").ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                var result = await call.Work(tx, call.State, cancellationToken).ConfigureAwait(false);

                // Not cancellable once asked: a caller must never hear "cancelled" about a change that was committed.
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return result;
            },
            cancellationToken);

    private async ValueTask WriteAsync<TState>(TState state, Func<PgTx, TState, CancellationToken, Task> work, CancellationToken cancellationToken) =>
        await WriteAsync(
            (Work: work, State: state),
            static async (tx, call, ct) =>
            {
                await call.Work(tx, call.State, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>Runs <paramref name="work"/> on a pooled connection; with <paramref name="snapshot"/>, in one REPEATABLE READ, read-only transaction.</summary>
    private ValueTask<TResult> ReadAsync<TState, TResult>(TState state, Func<PgTx, TState, CancellationToken, Task<TResult>> work, bool snapshot, CancellationToken cancellationToken) =>
        RunAsync(
            (Store: this, State: state, Work: work, Snapshot: snapshot),
            static async (connection, call, cancellationToken) =>
            {
                if (!call.Snapshot) return await call.Work(new PgTx(connection, null, call.Store), call.State, cancellationToken).ConfigureAwait(false);
                var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
                await using var transactionScope = transaction.ConfigureAwait(false);
                var result = await call.Work(new PgTx(connection, transaction, call.Store), call.State, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            },
            cancellationToken);

    /// <summary>Opens a pooled connection, runs the work on it, and turns Npgsql's failures into <see cref="BlobStorageException"/>s.</summary>
    private async ValueTask<TResult> RunAsync<TState, TResult>(TState state, Func<NpgsqlConnection, TState, CancellationToken, Task<TResult>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var connectionScope = connection.ConfigureAwait(false);
            return await work(connection, state, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex)
        {
            throw Translate(ex);
        }
        catch (NpgsqlException ex) when (!cancellationToken.IsCancellationRequested || ex.InnerException is not OperationCanceledException)
        {
            throw Unavailable(ex);
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException or IOException)
        {
            throw Unavailable(ex);
        }
    }

    private BlobStorageException Unavailable(Exception ex) => new(
        BlobErrorCode.StoreUnavailable,
        $"The PostgreSQL metadata store (schema '{_schema}') could not be reached or refused the connection: {ex.Message}. Nothing was changed unless the call had committed; the store retries with new connections on the next call.",
        ex);

    private BlobStorageException Translate(PostgresException ex) => ex.SqlState switch
    {
        // Serialization failures and deadlocks: another transaction won; nothing of this one was committed.
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable => new BlobStorageException(
            BlobErrorCode.StoreBusy,
            $"The PostgreSQL metadata store (schema '{_schema}') gave way to a concurrent transaction ({ex.SqlState}: {ex.MessageText}); nothing was changed. Try again.",
            ex),
        PostgresErrorCodes.DiskFull or PostgresErrorCodes.OutOfMemory => new BlobStorageException(
            BlobErrorCode.InsufficientStorage,
            $"The PostgreSQL server holding the metadata store is out of space ({ex.SqlState}: {ex.MessageText}); nothing was changed.",
            ex),
        PostgresErrorCodes.InsufficientPrivilege => new BlobStorageException(
            BlobErrorCode.AccessDenied,
            $"The PostgreSQL user may not use the metadata store's schema '{_schema}' ({ex.MessageText}). Grant it the rights to create and use the schema.",
            ex),
        PostgresErrorCodes.DataCorrupted or PostgresErrorCodes.IndexCorrupted => new DataCorruptionException($"The PostgreSQL metadata store reports damage: {ex.MessageText}", ex),
        _ => new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The PostgreSQL metadata store (schema '{_schema}') failed: {ex.SqlState}: {ex.MessageText}", ex),
    };

    private static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        try
        {
            return NpgsqlDataSource.Create(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The PostgreSQL connection string cannot be used: {ex.Message}", ex);
        }
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private static long Ticks(DateTimeOffset time) => time.UtcTicks;

    private static long? NullableTicks(DateTimeOffset? time) => time?.UtcTicks;

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
