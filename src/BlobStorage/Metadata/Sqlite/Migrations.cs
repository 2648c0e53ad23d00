using System.Globalization;
using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>The schema, as numbered migrations applied in order; <c>PRAGMA user_version</c> records the last one applied.</summary>
internal static class Migrations
{
    // The columns of the blobs table after migration 3, which migration 4 copies.
    private const string Version3BlobColumns =
        "container_id, name, version_id, size, content_type, etag, content_hash, storage_class, created, modified, access_count, last_accessed, tags, metadata, chunks, part_count, inline_id";

    /// <summary>The migrations' SQL, in order: <c>Steps[n]</c> takes a database from version n to n + 1.</summary>
    internal static readonly IReadOnlyList<string> Steps =
    [
        // 1: containers, blobs with packed chunk lists, reference-counted chunks, statistics.
        """
        CREATE TABLE containers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            storage_class INTEGER NOT NULL,
            replication INTEGER NOT NULL,
            access_policy INTEGER NOT NULL,
            created INTEGER NOT NULL,              -- UTC ticks, as every time in the schema
            blob_count INTEGER NOT NULL DEFAULT 0,
            total_bytes INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE blobs (
            container_id INTEGER NOT NULL,
            name BLOB NOT NULL,                    -- UTF-8 bytes: ordering and ranges are byte-wise (ordinal)
            version_id TEXT NOT NULL,
            size INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            etag TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            storage_class INTEGER NOT NULL,
            created INTEGER NOT NULL,
            modified INTEGER NOT NULL,
            access_count INTEGER NOT NULL DEFAULT 0,
            last_accessed INTEGER NULL,
            tags TEXT NULL,                        -- JSON object; NULL when empty
            metadata TEXT NULL,                    -- JSON object; NULL when empty
            chunks BLOB NOT NULL,                  -- 36 bytes an entry: 32-byte id, little-endian int32 length
            PRIMARY KEY (container_id, name)
        ) WITHOUT ROWID;
        CREATE TABLE chunks (
            id BLOB PRIMARY KEY,
            length INTEGER NOT NULL,
            refcount INTEGER NOT NULL,
            unreferenced_since INTEGER NULL
        ) WITHOUT ROWID;
        -- Only chunks awaiting collection are indexed: the collector's scan never walks live chunks.
        CREATE INDEX chunks_unreferenced ON chunks (unreferenced_since) WHERE refcount = 0;
        CREATE TABLE stats (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            reads INTEGER NOT NULL,
            writes INTEGER NOT NULL,
            deletes INTEGER NOT NULL,
            bytes_read INTEGER NOT NULL,
            bytes_written INTEGER NOT NULL,
            stored_bytes INTEGER NOT NULL,
            chunk_count INTEGER NOT NULL
        );
        INSERT INTO stats VALUES (1, 0, 0, 0, 0, 0, 0, 0);
        """,

        // 2: multipart uploads; their parts hold chunk references until completion moves them to the blob.
        """
        ALTER TABLE blobs ADD COLUMN part_count INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE uploads (
            id TEXT PRIMARY KEY,
            container_id INTEGER NOT NULL,
            name BLOB NOT NULL,
            content_type TEXT NOT NULL,
            storage_class INTEGER NOT NULL,
            tags TEXT NULL,
            metadata TEXT NULL,
            if_match TEXT NULL,
            if_none_match TEXT NULL,
            if_modified_since INTEGER NULL,
            if_unmodified_since INTEGER NULL,
            started INTEGER NOT NULL
        );
        CREATE INDEX uploads_by_container ON uploads (container_id, name, started);
        CREATE INDEX uploads_by_start ON uploads (started);
        CREATE TABLE parts (
            upload_id TEXT NOT NULL,
            part_number INTEGER NOT NULL,
            etag TEXT NOT NULL,
            size INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            uploaded INTEGER NOT NULL,
            chunks BLOB NOT NULL,
            PRIMARY KEY (upload_id, part_number)
        ) WITHOUT ROWID;
        """,

        // 3: small blobs kept whole in a table of their own (rows of the blobs table stay small, so
        // updating access counts or listing never touches content), shared by copies through a
        // reference count, each with a checksum verified on every read.
        """
        CREATE TABLE inline_content (
            id INTEGER PRIMARY KEY,
            refcount INTEGER NOT NULL,
            checksum INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        ALTER TABLE blobs ADD COLUMN inline_id INTEGER NULL;
        """,

        // 4: the blobs table again, with the properties column SQLite keeps for listings and downloads
        // (see PropertiesColumn). A stored generated column cannot be added to a table, so the table is
        // made anew and its rows copied.
        $"""
        CREATE TABLE blobs_4 (
            container_id INTEGER NOT NULL,
            name BLOB NOT NULL,
            version_id TEXT NOT NULL,
            size INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            etag TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            storage_class INTEGER NOT NULL,
            created INTEGER NOT NULL,
            modified INTEGER NOT NULL,
            access_count INTEGER NOT NULL DEFAULT 0,
            last_accessed INTEGER NULL,
            tags TEXT NULL,
            metadata TEXT NULL,
            chunks BLOB NOT NULL,
            part_count INTEGER NOT NULL DEFAULT 0,
            inline_id INTEGER NULL,
            {PropertiesColumn.Definition},
            PRIMARY KEY (container_id, name)
        ) WITHOUT ROWID;
        INSERT INTO blobs_4 ({Version3BlobColumns}) SELECT {Version3BlobColumns} FROM blobs;
        DROP TABLE blobs;
        ALTER TABLE blobs_4 RENAME TO blobs;
        """,

        // 5: the store's identity, made once with the database. The chunk folder keeps the same id in a
        // marker, so a database that is missing, empty or of another store is refused at open instead of
        // taken for an empty store whose chunks are all orphans.
        """
        CREATE TABLE store (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            store_id TEXT NOT NULL
        );
        INSERT INTO store VALUES (1, lower(hex(randomblob(16))));
        """,

        // 6: CDN configuration,
        // one row per container that has one; a container without a row has the default, disabled.
        """
        CREATE TABLE container_cdn (
            container_id INTEGER PRIMARY KEY,
            enabled INTEGER NOT NULL,
            edges TEXT NOT NULL,                   -- edge location names joined by ',' (names hold no comma)
            ttl INTEGER NOT NULL,                  -- ticks
            cache_control TEXT NULL,
            custom_domain TEXT NULL,
            max_cacheable INTEGER NOT NULL
        );
        """,

        // 7: the replication queue (copies owed to a node: in another region, or a local copy an upload
        // returned without) and when each copy of a chunk was last verified against its id (its SHA-256 or BLAKE3 hash).
        """
        CREATE TABLE replication_queue (
            chunk_id BLOB NOT NULL,
            node TEXT NOT NULL,
            length INTEGER NOT NULL,
            enqueued INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt INTEGER NOT NULL,
            last_error TEXT NULL,
            PRIMARY KEY (chunk_id, node)
        ) WITHOUT ROWID;
        CREATE INDEX replication_queue_due ON replication_queue (next_attempt);
        CREATE TABLE chunk_verifications (
            chunk_id BLOB NOT NULL,
            node TEXT NOT NULL,
            verified INTEGER NOT NULL,
            PRIMARY KEY (chunk_id, node)
        ) WITHOUT ROWID;
        """,

        // 8: storage tiers. Lifecycle rules, a row per rule in the order given. A blob's pending rehydration
        // lives in its storage_class column (see StorageClassColumn: class + 16 * (target + 1)), so the
        // properties column the reads use carries it without the blobs table being made anew; the partial
        // index lets maintenance find the pending ones without walking every blob.
        """
        CREATE TABLE lifecycle_rules (
            container_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            prefix BLOB NULL,                      -- UTF-8 bytes, compared as blob names are (ordinal)
            action INTEGER NOT NULL,               -- LifecycleAction
            storage_class INTEGER NULL,            -- the class a move goes to
            days INTEGER NOT NULL,
            basis INTEGER NOT NULL,                -- LifecycleBasis
            PRIMARY KEY (container_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX blobs_rehydrating ON blobs (storage_class) WHERE storage_class >= 16;
        """,
    ];

    /// <summary>A read of every table of the schema; <see cref="CheckTables"/> runs them at open.</summary>
    private static readonly string[] TableChecks =
    [
        "SELECT 1 FROM containers LIMIT 1;",
        "SELECT 1 FROM blobs LIMIT 1;",
        "SELECT 1 FROM chunks LIMIT 1;",
        "SELECT 1 FROM uploads LIMIT 1;",
        "SELECT 1 FROM parts LIMIT 1;",
        "SELECT 1 FROM inline_content LIMIT 1;",
        "SELECT 1 FROM store LIMIT 1;",
        "SELECT 1 FROM container_cdn LIMIT 1;",
        "SELECT 1 FROM replication_queue LIMIT 1;",
        "SELECT 1 FROM chunk_verifications LIMIT 1;",

        "SELECT 1 FROM lifecycle_rules LIMIT 1;",
    ];

    /// <summary>The schema version this code writes: the number of the last migration.</summary>
    public static int Latest => Steps.Count;

    /// <summary>
    /// Brings the database up to <see cref="Latest"/>, one migration per transaction. Each transaction
    /// reads the version again under the write lock, so two processes opening a new file at once
    /// apply every step exactly once.
    /// </summary>
    /// <exception cref="BlobStorageException">The database was written by a newer version of BlobStorage.</exception>
    public static void Apply(SqliteSession session, string databasePath)
    {
        while (true)
        {
            session.BeginWrite();
            try
            {
                var version = Convert.ToInt32(session.Scalar("PRAGMA user_version;"), CultureInfo.InvariantCulture);
                if (version > Latest)
                {
                    throw new BlobStorageException(
                        BlobErrorCode.StoreUnavailable,
                        $"The metadata database '{databasePath}' has schema version {version}; this version of BlobStorage knows versions up to {Latest}. Open it with a newer BlobStorage.");
                }

                if (version == Latest)
                {
                    CheckTables(session, databasePath);
                    session.Commit();
                    return;
                }

                session.Execute(Steps[version]);
                session.Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version = {version + 1};"));
                session.Commit();
            }
            catch
            {
                session.Rollback();
                throw;
            }
        }
    }

    /// <summary>
    /// Reads the root page of every table, and the statistics row: a damaged file fails here, at open,
    /// with a clear error, not at some later call.
    /// </summary>
    private static void CheckTables(SqliteSession session, string databasePath)
    {
        foreach (var check in TableChecks) session.Scalar(check);
        if (Convert.ToInt64(session.Scalar("SELECT COUNT(*) FROM stats;"), CultureInfo.InvariantCulture) != 1)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{databasePath}' is damaged: its statistics row is missing.");
        }

        if (Convert.ToInt64(session.Scalar("SELECT COUNT(*) FROM store;"), CultureInfo.InvariantCulture) != 1)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The metadata database '{databasePath}' is damaged: the row with the store's id is missing.");
        }
    }
}
