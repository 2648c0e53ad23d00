using System.Globalization;
using BlobStorage.PostgreSql.Internal;

namespace BlobStorage.PostgreSql;

public sealed partial class PostgreSqlMetadataStore
{
    /// <summary>
    /// The channel this schema's changes are published on: one per schema (a hash of its name), so stores in other
    /// schemas of the database do not hear them.
    /// </summary>
    internal string Channel => "blobstorage_" + PostgreSqlMigrations.LockKey(_schema).ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Publishes, inside the commit's transaction, that a blob's current version changed (overwritten, copied onto,
    /// its metadata changed, or deleted): PostgreSQL delivers a NOTIFY only when the transaction commits, and not at all
    /// when it rolls back, so a listener never hears of a change that did not happen. The payload is the container's
    /// name, a line feed (which neither name can hold), and the blob's name.
    /// </summary>
    private static async Task NotifyAsync(PgTx tx, string container, string name, CancellationToken ct)
    {
        using var command = tx.Command("SELECT pg_notify(@channel, @payload);").Text("@channel", tx.Store.Channel).Text("@payload", container + "\n" + name);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
