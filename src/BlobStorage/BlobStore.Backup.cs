using System.Runtime.InteropServices;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.DependencyInjection;
using BlobStorage.Internal;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Replication;
using Microsoft.Data.Sqlite;

namespace BlobStorage;

/// <summary>
/// Online backup. The metadata snapshot is taken first, under the maintenance lock, so that no collection can delete a chunk
/// the snapshot refers to until every such chunk is in the backup; then the chunks are linked or copied; then the snapshot
/// replaces the backup's metadata (flushed, renamed, folder flushed); only then are the backup's chunks that the new snapshot
/// no longer refers to deleted. A crash at any point leaves the previous backup whole (its metadata and all its chunks) or
/// the new one whole.
/// </summary>
internal sealed partial class BlobStore
{
    private const string SnapshotFileName = "metadata.db.backup";

    public async Task<BackupReport> BackupAsync(string destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        if (_metadata is not SqliteMetadataStore sqlite
            || _replicator is not RendezvousReplicator { Nodes: var nodes }
            || nodes.Any(n => n.Store is not FileSystemChunkStore))
        {
            throw new BlobStorageException(BlobErrorCode.NotSupported, "BackupAsync backs up stores of SQLite metadata and file-system chunks (the defaults); this store was built with other services, which keep their own backups.");
        }

        var sources = nodes.Select(n => (FileSystemChunkStore)n.Store).ToList();
        var target = Path.GetFullPath(destination);
        var storeId = await _metadata.GetStoreIdAsync(cancellationToken).ConfigureAwait(false);
        var incremental = CheckBackupDestination(target, storeId);

        var chunksTarget = Path.Combine(target, StoreComposition.ChunksFolderName);
        var tempTarget = Path.Combine(chunksTarget, FileSystemChunkStore.TempFolderName);
        var snapshot = Path.Combine(target, SnapshotFileName);
        HashSet<ChunkId> referenced;
        long blobs, linked = 0, copied = 0, present = 0, bytes = 0;
        try
        {
            Directory.CreateDirectory(tempTarget);
            await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                File.Delete(snapshot);
                await sqlite.SnapshotToAsync(snapshot, cancellationToken).ConfigureAwait(false);
                bytes += new FileInfo(snapshot).Length;
                (referenced, blobs) = ReadSnapshot(snapshot, storeId);

                var touched = new HashSet<string>(StringComparer.Ordinal);
                foreach (var id in referenced)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var name = id.ToString();
                    var shard = Path.Combine(chunksTarget, name[..2]);
                    var file = Path.Combine(shard, name);
                    if (File.Exists(file))
                    {
                        present++;
                        continue;
                    }

                    var source = sources.Select(s => s.GetPath(id)).FirstOrDefault(File.Exists);
                    if (source is null)
                    {
                        // A row awaiting collection whose file is gone already, or a chunk the store lost: the snapshot's blobs are
                        // checked below, so only the second fails the backup.
                        continue;
                    }

                    Directory.CreateDirectory(shard);
                    touched.Add(shard);
                    if (TryLink(source, file))
                    {
                        linked++;
                    }
                    else
                    {
                        bytes += CopyFlushed(source, file, tempTarget);
                        copied++;
                    }
                }

                var marker = Path.Combine(chunksTarget, FileSystemChunkStore.MarkerFileName);
                if (!File.Exists(marker))
                {
                    bytes += CopyFlushed(Path.Combine(sources[0].DirectoryPath, FileSystemChunkStore.MarkerFileName), marker, tempTarget);
                }

                foreach (var shard in touched) DirectoryFlush.Flush(shard);
                DirectoryFlush.Flush(chunksTarget);
            }
            finally
            {
                _maintenanceLock.Release();
            }

            CheckSnapshotComplete(snapshot, chunksTarget);

            // The new metadata replaces the old in one rename, after the chunks it needs are durable. A log or shared-memory
            // file of the old database (left if the backup was opened as a store) must not be applied to the new one.
            using (var handle = File.OpenHandle(snapshot, FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.FlushToDisk(handle);
            }

            var database = Path.Combine(target, StoreComposition.MetadataFileName);
            File.Delete(database + "-wal");
            File.Delete(database + "-shm");
            File.Move(snapshot, database, overwrite: true);
            DirectoryFlush.Flush(target);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex) || ex is SqliteException)
        {
            TryDelete(snapshot);
            throw ex is SqliteException ? new BlobStorageException(BlobErrorCode.IOError, $"The backup into '{target}' failed: {ex.Message}", ex) : StorageFailures.From(ex, $"backing up into '{target}'");
        }

        // Only now, with the new metadata durable, may chunks of an earlier backup that it no longer refers to go.
        long removed = 0;
        foreach (var shard in Directory.EnumerateDirectories(chunksTarget))
        {
            if (Path.GetFileName(shard) == FileSystemChunkStore.TempFolderName) continue;
            foreach (var file in Directory.EnumerateFiles(shard))
            {
                if (ChunkId.TryParse(Path.GetFileName(file), out var id) && !referenced.Contains(id))
                {
                    File.Delete(file);
                    removed++;
                }
            }
        }

        return new BackupReport
        {
            Destination = target,
            StoreId = storeId,
            Incremental = incremental,
            Blobs = blobs,
            Chunks = referenced.Count,
            ChunksLinked = linked,
            ChunksCopied = copied,
            ChunksAlreadyPresent = present,
            ChunksRemoved = removed,
            BytesCopied = bytes,
        };
    }

    /// <summary>True when the destination holds an earlier backup of this store; throws when it may not be written to; false when it is new or empty.</summary>
    private bool CheckBackupDestination(string target, string storeId)
    {
        var root = RootPath.TrimEnd(Path.DirectorySeparatorChar);
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var trimmed = target.TrimEnd(Path.DirectorySeparatorChar);
        if (trimmed.Equals(root, comparison) || trimmed.StartsWith(root + Path.DirectorySeparatorChar, comparison))
        {
            throw new BlobStorageException(BlobErrorCode.BackupRefused, $"The backup destination '{target}' is inside the store '{root}'; choose a folder outside it. Nothing was written.");
        }

        if (root.StartsWith(trimmed + Path.DirectorySeparatorChar, comparison))
        {
            throw new BlobStorageException(BlobErrorCode.BackupRefused, $"The backup destination '{target}' holds the store '{root}' itself; choose a folder outside it. Nothing was written.");
        }

        if (File.Exists(target))
        {
            throw new BlobStorageException(BlobErrorCode.BackupRefused, $"The backup destination '{target}' is a file; it must be a folder. Nothing was written.");
        }

        if (!Directory.Exists(target) || !Directory.EnumerateFileSystemEntries(target).Any()) return false;
        var database = Path.Combine(target, StoreComposition.MetadataFileName);
        var existing = File.Exists(database) ? ReadStoreId(database) : null;
        if (existing == storeId) return true;
        throw new BlobStorageException(
            BlobErrorCode.BackupRefused,
            existing is null
                ? $"The backup destination '{target}' is not empty and is not a backup of this store; use an empty folder, or an earlier backup of store {storeId}. Nothing was written."
                : $"The backup destination '{target}' holds store {existing}, not this store ({storeId}); use an empty folder, or an earlier backup of this store. Nothing was written.");
    }

    private static string? ReadStoreId(string database)
    {
        try
        {
            using var connection = OpenReadOnly(database);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT store_id FROM store WHERE id = 1;";
            return command.ExecuteScalar() as string;
        }
        catch (SqliteException)
        {
            // Not a database of a store, or one made before stores had ids: not a backup of this one.
            return null;
        }
    }

    /// <summary>The chunks the snapshot has rows for, and its blob count; checks it is of this store.</summary>
    private static (HashSet<ChunkId> Chunks, long Blobs) ReadSnapshot(string snapshot, string storeId)
    {
        using var connection = OpenReadOnly(snapshot);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT store_id FROM store WHERE id = 1;";
        if (command.ExecuteScalar() as string != storeId) throw new DataCorruptionException($"The metadata snapshot '{snapshot}' does not carry the store's id {storeId}.");
        command.CommandText = "SELECT count(*) FROM blobs;";
        var blobs = (long)command.ExecuteScalar()!;
        command.CommandText = "SELECT id FROM chunks;";
        var chunks = new HashSet<ChunkId>();
        using var reader = command.ExecuteReader();
        var id = new byte[ChunkId.Size];
        while (reader.Read())
        {
            if (reader.GetBytes(0, 0, id, 0, ChunkId.Size) == ChunkId.Size) chunks.Add(new ChunkId(id));
        }

        return (chunks, blobs);
    }

    /// <summary>Every chunk a blob or an upload's part of the snapshot refers to must be in the backup: else the store lost it, and the backup fails.</summary>
    private static void CheckSnapshotComplete(string snapshot, string chunksTarget)
    {
        using var connection = OpenReadOnly(snapshot);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM chunks WHERE refcount > 0;";
        using var reader = command.ExecuteReader();
        var id = new byte[ChunkId.Size];
        while (reader.Read())
        {
            if (reader.GetBytes(0, 0, id, 0, ChunkId.Size) != ChunkId.Size) continue;
            var name = new ChunkId(id).ToString();
            if (!File.Exists(Path.Combine(chunksTarget, name[..2], name)))
            {
                throw new DataCorruptionException($"Chunk {name} is referenced by the store but missing from it, so the backup would be incomplete; run VerifyAsync. The previous backup, if any, is unchanged.");
            }
        }
    }

    private static SqliteConnection OpenReadOnly(string database)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Copies a file through a temporary one in <paramref name="temp"/>, flushed, then renamed into place; returns its length.</summary>
    private static long CopyFlushed(string source, string file, string temp)
    {
        var staging = Path.Combine(temp, Guid.NewGuid().ToString("N"));
        try
        {
            using (var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan))
            using (var to = new FileStream(staging, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
                from.CopyTo(to, 1024 * 1024);
                to.Flush(flushToDisk: true);
            }

            File.Move(staging, file, overwrite: true);
            return new FileInfo(file).Length;
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private static bool TryLink(string source, string file)
    {
        if (OperatingSystem.IsWindows()) return false;

        // A chunk file is never changed in place (a repair writes a new file and renames it over), so a link is a copy.
        return BackupNative.Link(source, file) == 0;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            // Left for the next backup to replace.
        }
    }
}

/// <summary>link(2), to hard-link chunk files into a backup on the same file system.</summary>
internal static partial class BackupNative
{
    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Link(string existing, string created);
}
