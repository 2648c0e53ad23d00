using System.Globalization;
using System.Threading.Channels;
using BlobStorage.Internal;
using BlobStorage.PostgreSql.Internal;
using Npgsql;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore : IMetadataChangeFeed
{
    // Tells this store's own notifications from those of other processes (or other store objects).
    private readonly string _origin = Guid.NewGuid().ToString("N");

    /// <summary>
    /// The channel this schema's changes are published on: one per schema (a hash of its name), so stores in other
    /// schemas of the database do not hear them.
    /// </summary>
    internal string Channel => "blobstorage_" + PostgreSqlMigrations.LockKey(_schema).ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Publishes, inside the commit's transaction, that a blob's current version changed (replaced, copied onto, its
    /// metadata changed, or deleted), or with a null <paramref name="name"/> that a container was deleted or its settings
    /// changed. PostgreSQL delivers a NOTIFY only when its transaction commits, so a listener never hears of a change
    /// that did not happen. The payload is the sending store's origin, the container's name and the blob's name (empty
    /// for the container itself), separated by line feeds, which no name can hold.
    /// </summary>
    private static async Task NotifyAsync(PgTx tx, string container, string? name, CancellationToken ct)
    {
        using var command = tx.Command("SELECT pg_notify(@channel, @payload);")
            .Text("@channel", tx.Store.Channel)
            .Text("@payload", tx.Store._origin + "\n" + container + "\n" + name);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// One connection of the pool is held for the subscription and LISTENs on the schema's channel. When it breaks
    /// (the server restarted, the network failed) the subscription opens another, once a second, and then reports
    /// (null, null): notifications sent meanwhile were lost. This returns once the first LISTEN is in place, or has
    /// failed (it is then retried in the background).
    /// </remarks>
    async ValueTask<IAsyncDisposable> IMetadataChangeFeed.SubscribeAsync(Func<string?, string?, ValueTask> onChange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var listener = new ChangeListener(this, onChange);
        await listener.FirstAttempt.WaitAsync(cancellationToken).ConfigureAwait(false);
        return listener;
    }

    /// <summary>A LISTEN on its own connection, and the loop that hands what it hears to the subscriber, in order.</summary>
    private sealed class ChangeListener : IAsyncDisposable
    {
        private readonly PostgreSqlMetadataStore _store;
        private readonly Func<string?, string?, ValueTask> _onChange;
        private readonly CancellationTokenSource _stop = new();
        private readonly Channel<(string? Container, string? Name)> _heard = System.Threading.Channels.Channel.CreateUnbounded<(string?, string?)>(new UnboundedChannelOptions { SingleReader = true });
        private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _listening;
        private readonly Task _delivering;

        public ChangeListener(PostgreSqlMetadataStore store, Func<string?, string?, ValueTask> onChange)
        {
            _store = store;
            _onChange = onChange;
            _listening = Task.Run(ListenAsync);
            _delivering = Task.Run(DeliverAsync);
        }

        public Task FirstAttempt => _firstAttempt.Task;

        private async Task ListenAsync()
        {
            var missed = false;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var connection = await _store._dataSource.OpenConnectionAsync(_stop.Token).ConfigureAwait(false);
                    await using (connection.ConfigureAwait(false))
                    {
                        connection.Notification += OnNotification;
                        using (var listen = new NpgsqlCommand("LISTEN " + _store.Channel + ";", connection))
                        {
                            await listen.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
                        }

                        if (missed) _heard.Writer.TryWrite((null, null));
                        missed = true;
                        _firstAttempt.TrySetResult();
                        while (true) await connection.WaitAsync(_stop.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    // Lost or refused: whatever was sent until the next LISTEN is lost too; say so once it is back.
                    missed = true;
                    _firstAttempt.TrySetResult();
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }

            _heard.Writer.TryComplete();
        }

        private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
        {
            var parts = e.Payload.Split('\n', 3);
            if (parts.Length != 3 || parts[0] == _store._origin) return;
            _heard.Writer.TryWrite((parts[1], parts[2].Length == 0 ? null : parts[2]));
        }

        private async Task DeliverAsync()
        {
            await foreach (var (container, name) in _heard.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    await _onChange(container, name).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // The subscriber's failure must not end the subscription; it reports its own errors.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _listening.ConfigureAwait(false);
            _heard.Writer.TryComplete();
            await _delivering.ConfigureAwait(false);
            _stop.Dispose();
        }
    }
}
