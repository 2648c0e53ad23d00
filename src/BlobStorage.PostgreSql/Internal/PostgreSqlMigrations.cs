using System.IO.Hashing;
using System.Text;
using BlobStorage.Abstractions;

namespace BlobStorage.PostgreSql.Internal;

/// <summary>
/// The schema, as numbered migrations applied in order. <c>schema_migrations</c> holds a row per migration applied;
/// <c>Steps[n]</c> takes the schema from version n to n + 1. Times are UTC ticks (bigint), blob names their UTF-8
/// bytes (bytea, which compares byte by byte: ordinal), as in the SQLite store.
/// </summary>
internal static class PostgreSqlMigrations
{
    internal static readonly IReadOnlyList<string> Steps =
    [
        // 1: the whole schema of the SQLite store's eight migrations, in PostgreSQL's types.
        """
        CREATE TABLE {S}.store (
            id integer PRIMARY KEY CHECK (id = 1),
            store_id text NOT NULL
        );
        INSERT INTO {S}.store VALUES (1, replace(gen_random_uuid()::text, '-', ''));
        CREATE TABLE {S}.stats (
            id integer PRIMARY KEY CHECK (id = 1),  -- every writer locks this row first (see PostgreSqlMetadataStore)
            reads bigint NOT NULL,
            writes bigint NOT NULL,
            deletes bigint NOT NULL,
            bytes_read bigint NOT NULL,
            bytes_written bigint NOT NULL,
            stored_bytes bigint NOT NULL,
            chunk_count bigint NOT NULL
        );
        INSERT INTO {S}.stats VALUES (1, 0, 0, 0, 0, 0, 0, 0);
        CREATE TABLE {S}.containers (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text COLLATE "C" NOT NULL UNIQUE,
            storage_class integer NOT NULL,
            replication integer NOT NULL,
            access_policy integer NOT NULL,
            created bigint NOT NULL,
            blob_count bigint NOT NULL DEFAULT 0,
            total_bytes bigint NOT NULL DEFAULT 0
        );
        CREATE TABLE {S}.inline_content (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            refcount bigint NOT NULL,
            checksum bigint NOT NULL,
            data bytea NOT NULL
        );
        CREATE TABLE {S}.blobs (
            container_id bigint NOT NULL REFERENCES {S}.containers (id),
            name bytea NOT NULL,
            version_id text NOT NULL,
            size bigint NOT NULL,
            content_type text NOT NULL,
            etag text NOT NULL,
            content_hash text NOT NULL,
            storage_class integer NOT NULL,
            rehydrating_to integer NULL,
            created bigint NOT NULL,
            modified bigint NOT NULL,
            access_count bigint NOT NULL DEFAULT 0,
            last_accessed bigint NULL,
            tags text NULL,
            metadata text NULL,
            part_count integer NOT NULL DEFAULT 0,
            chunks bytea NOT NULL,                 -- 36 bytes an entry: 32-byte id, little-endian int32 length
            inline_id bigint NULL,
            PRIMARY KEY (container_id, name)
        );
        CREATE INDEX blobs_rehydrating ON {S}.blobs (container_id, name) WHERE rehydrating_to IS NOT NULL;
        CREATE TABLE {S}.chunks (
            id bytea PRIMARY KEY,
            length integer NOT NULL,
            refcount bigint NOT NULL,
            unreferenced_since bigint NULL
        );
        CREATE INDEX chunks_unreferenced ON {S}.chunks (unreferenced_since) WHERE refcount = 0;
        CREATE TABLE {S}.uploads (
            id text COLLATE "C" PRIMARY KEY,
            container_id bigint NOT NULL,
            name bytea NOT NULL,
            content_type text NOT NULL,
            storage_class integer NOT NULL,
            tags text NULL,
            metadata text NULL,
            if_match text NULL,
            if_none_match text NULL,
            if_modified_since bigint NULL,
            if_unmodified_since bigint NULL,
            started bigint NOT NULL
        );
        CREATE INDEX uploads_by_container ON {S}.uploads (container_id, name, started);
        CREATE INDEX uploads_by_start ON {S}.uploads (started);
        CREATE TABLE {S}.parts (
            upload_id text COLLATE "C" NOT NULL,
            part_number integer NOT NULL,
            etag text NOT NULL,
            size bigint NOT NULL,
            content_hash text NOT NULL,
            uploaded bigint NOT NULL,
            chunks bytea NOT NULL,
            PRIMARY KEY (upload_id, part_number)
        );
        CREATE TABLE {S}.container_cdn (
            container_id bigint PRIMARY KEY,
            enabled boolean NOT NULL,
            edges text NOT NULL,                   -- edge location names joined by ',' (names hold no comma)
            ttl bigint NOT NULL,
            cache_control text NULL,
            custom_domain text NULL,
            max_cacheable bigint NOT NULL
        );
        CREATE TABLE {S}.replication_queue (
            chunk_id bytea NOT NULL,
            node text COLLATE "C" NOT NULL,
            length integer NOT NULL,
            enqueued bigint NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            next_attempt bigint NOT NULL,
            last_error text NULL,
            PRIMARY KEY (chunk_id, node)
        );
        CREATE INDEX replication_queue_due ON {S}.replication_queue (next_attempt);
        CREATE TABLE {S}.chunk_verifications (
            chunk_id bytea NOT NULL,
            node text COLLATE "C" NOT NULL,
            verified bigint NOT NULL,
            PRIMARY KEY (chunk_id, node)
        );
        CREATE TABLE {S}.lifecycle_rules (
            container_id bigint NOT NULL,
            position integer NOT NULL,
            name text NOT NULL,
            prefix bytea NULL,
            action integer NOT NULL,
            storage_class integer NULL,
            days integer NOT NULL,
            basis integer NOT NULL,
            PRIMARY KEY (container_id, position)
        );
        """,

        // 2: chunk removals, for collection across processes (see IChunkCollectionGuard and PostgreSqlMetadataStore.Collection.cs):
        // the collection epoch, taken up by every removal that begins or ends, and the removals themselves.
        """
        ALTER TABLE {S}.stats ADD COLUMN collection_epoch bigint NOT NULL DEFAULT 0;
        ALTER TABLE {S}.stats ADD COLUMN pruned_epoch bigint NOT NULL DEFAULT 0;
        CREATE TABLE {S}.chunk_removals (
            id bytea PRIMARY KEY,
            epoch bigint NOT NULL,                 -- the epoch it began at while open, the epoch it ended at once done
            done boolean NOT NULL,
            started timestamptz NOT NULL,          -- the database's clock: one clock for every process
            finished timestamptz NULL
        );
        CREATE INDEX chunk_removals_finished ON {S}.chunk_removals (finished) WHERE done;
        """,
    ];

    /// <summary>The schema version this code writes: the number of the last migration.</summary>
    public static int Latest => Steps.Count;

    /// <summary>
    /// The advisory lock key of a schema: the same in every process (XxHash64 of a fixed text and the schema's name),
    /// different for each schema, so that stores in two schemas of one database do not wait for each other.
    /// </summary>
    public static long LockKey(string schema) =>
        unchecked((long)XxHash64.HashToUInt64(Encoding.UTF8.GetBytes("BlobStorage.PostgreSql/migrations/" + schema)));

    /// <summary>
    /// In the caller's transaction: takes the schema's advisory lock (held until the transaction ends), creates the
    /// schema and the migrations table when missing, and applies every migration not yet recorded.
    /// </summary>
    /// <exception cref="BlobStorageException">The schema was written by a newer version of BlobStorage (<see cref="BlobErrorCode.StoreUnavailable"/>).</exception>
    public static async Task ApplyAsync(PgTx tx, string schema, CancellationToken cancellationToken)
    {
        using (var lockCommand = tx.Command("SELECT pg_advisory_xact_lock(@key);").Long("@key", LockKey(schema)))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using (var create = tx.Command(
            """
            CREATE SCHEMA IF NOT EXISTS {S}.;
            CREATE TABLE IF NOT EXISTS {S}.schema_migrations (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now());
            """.Replace("{S}.;", QuotedSchema(schema) + ";", StringComparison.Ordinal)))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int version;
        using (var current = tx.Command("SELECT COALESCE(MAX(version), 0) FROM {S}.schema_migrations;"))
        {
            version = Convert.ToInt32(await current.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }

        if (version > Latest)
        {
            throw new BlobStorageException(
                BlobErrorCode.StoreUnavailable,
                $"The PostgreSQL schema '{schema}' has schema version {version}; this version of BlobStorage knows versions up to {Latest}. Open it with a newer BlobStorage.");
        }

        for (; version < Latest; version++)
        {
            using var step = tx.Command(Steps[version]);
            await step.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            using var record = tx.Command("INSERT INTO {S}.schema_migrations (version) VALUES (@version);").Int("@version", version + 1);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static string QuotedSchema(string schema) => "\"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
