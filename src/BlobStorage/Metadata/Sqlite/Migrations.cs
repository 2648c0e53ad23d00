using BlobStorage.Abstractions;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>The schema, as numbered migrations applied in order; <c>PRAGMA user_version</c> records the last one applied.</summary>
internal static class Migrations
{
    private static readonly string[] Steps =
    [
        // 1: containers, blobs with packed chunk lists, reference-counted chunks, statistics.
        """
        CREATE TABLE containers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            storage_class INTEGER NOT NULL,
            replication INTEGER NOT NULL,
            access_policy INTEGER NOT NULL,
            created INTEGER NOT NULL,
            blob_count INTEGER NOT NULL DEFAULT 0,
            total_bytes INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE blobs (
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
            PRIMARY KEY (container_id, name)
        ) WITHOUT ROWID;
        CREATE TABLE chunks (
            id BLOB PRIMARY KEY,
            length INTEGER NOT NULL,
            refcount INTEGER NOT NULL,
            unreferenced_since INTEGER NULL
        ) WITHOUT ROWID;
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
    ];

    public static int Latest => Steps.Length;

    public static void Apply(SqliteSession session, string databasePath)
    {
        var version = Convert.ToInt32(session.Command("PRAGMA user_version;").ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Steps.Length)
        {
            throw new BlobStorageException(
                BlobErrorCode.StoreUnavailable,
                $"The metadata database '{databasePath}' has schema version {version}; this version of BlobStorage knows up to {Steps.Length}. Use a newer BlobStorage.");
        }

        for (var step = version; step < Steps.Length; step++)
        {
            using var transaction = session.Connection.BeginTransaction(deferred: false);
            session.Execute(Steps[step], transaction);
            session.Execute($"PRAGMA user_version = {step + 1};", transaction);
            transaction.Commit();
        }
    }

    /// <summary>True for the errors SQLite gives when a file is not a database or is damaged.</summary>
    public static bool IsCorruption(SqliteException ex) => ex.SqliteErrorCode is 11 or 26; // SQLITE_CORRUPT, SQLITE_NOTADB
}
