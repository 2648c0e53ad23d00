using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Stores chunks as files named by their SHA-256 under a folder, sharded by the id's first byte
/// (<c>ab/abcd…</c>). Each file is a 32-byte header (magic, length, XxHash3 of the content) and
/// the content; every read checks the header and the checksum before returning a byte. A write goes
/// to a temporary file that is flushed, renamed into place and made durable by flushing the shard
/// folder. Only hexadecimal ids ever form a path, so no input can reach outside the folder.
/// One store at a time: the folder is locked while the store is open.
/// </summary>
public sealed class FileSystemChunkStore : IChunkStore, IDisposable
{
    internal const int HeaderSize = 32;
    internal const string TempFolderName = ".tmp";
    internal const string LockFileName = ".lock";
    private const int ShardCount = 256;

    private readonly string _root;
    private readonly string _temp;
    private readonly string[] _shards = new string[ShardCount];
    private FileStream? _lock;

    /// <summary>
    /// Opens the chunk folder, creating it and its shard folders if needed, takes its lock and
    /// removes temporary files that an interrupted write left behind.
    /// </summary>
    /// <param name="directory">The folder that holds the chunks; nothing is written outside it.</param>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is null, empty or white space.</exception>
    /// <exception cref="BlobStorageException">
    /// <see cref="BlobErrorCode.StoreUnavailable"/>: another store (in this or another process) holds
    /// the folder, or the folder could not be created or opened.
    /// </exception>
    public FileSystemChunkStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _root = Path.GetFullPath(directory);
        _temp = Path.Combine(_root, TempFolderName);
        for (var i = 0; i < ShardCount; i++)
        {
            _shards[i] = Path.Combine(_root, i.ToString("x2", CultureInfo.InvariantCulture));
        }

        try
        {
            var existing = DeepestExisting(_root);
            Directory.CreateDirectory(_root);
            _lock = TakeLock(_root);
            try
            {
                Directory.CreateDirectory(_temp);
                foreach (var shard in _shards) Directory.CreateDirectory(shard);

                // The root unconditionally: a previous open may have created the shards and crashed
                // before its flush, leaving entries that exist now but would not survive a power cut.
                DirectoryFlush.Flush(_root);
                for (var folder = Path.GetDirectoryName(_root); folder is not null && folder.Length >= existing.Length; folder = Path.GetDirectoryName(folder))
                {
                    // Every folder this open created needs its own entry made durable in its parent.
                    DirectoryFlush.Flush(folder);
                }

                // Safe only under the lock: no other store can be writing into .tmp.
                RemoveTemporaryFiles();
            }
            catch
            {
                Dispose();
                throw;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The chunk folder '{_root}' could not be opened: {ex.Message}", ex);
        }
    }

    /// <summary>The full path of the folder that holds the chunks.</summary>
    public string DirectoryPath => _root;

    internal static ReadOnlySpan<byte> Magic => "BSCHUNK1"u8;

    /// <inheritdoc />
    public ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return ValueTask.FromResult(File.Exists(GetPath(id)));
    }

    /// <inheritdoc />
    /// <exception cref="IOException">The chunk could not be written or flushed to disk; nothing was stored.</exception>
    public ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var path = GetPath(id);
        if (File.Exists(path)) return ValueTask.FromResult(false);
        Write(id, path, content);
        return ValueTask.FromResult(true);
    }

    private void Write(ChunkId id, string path, ReadOnlyMemory<byte> content)
    {
        // RandomAccess's gather write takes Memory, not Span, so the header is pooled rather than stackalloc'd.
        var header = ArrayPool<byte>.Shared.Rent(HeaderSize);
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        var moved = false;
        try
        {
            WriteHeader(header.AsSpan(0, HeaderSize), content.Span);
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, HeaderSize + content.Length))
            {
                RandomAccess.Write(handle, [header.AsMemory(0, HeaderSize), content], 0);
                RandomAccess.FlushToDisk(handle);
            }

            // Concurrent writers of one chunk write identical bytes, so whichever rename lands last is right.
            File.Move(temp, path, overwrite: true);
            moved = true;
            DirectoryFlush.Flush(_shards[id.FirstByte]);
        }
        catch
        {
            TryDelete(temp);
            if (moved)
            {
                // The file is in place but its name may not survive a power cut. Left there, a retry
                // would find it and report a durable write that is not one; without it, the retry
                // writes and flushes again.
                TryDelete(path);
            }

            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the chunk; the message names the size needed.</exception>
    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return ValueTask.FromResult(Read(id, destination.Span));
    }

    private int Read(ChunkId id, Span<byte> destination)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(GetPath(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataCorruptionException($"Chunk {id} is missing from '{_root}'.", ex);
        }

        using (handle)
        {
            long fileLength;
            Span<byte> header = stackalloc byte[HeaderSize];
            int headerRead;
            try
            {
                fileLength = RandomAccess.GetLength(handle);
                headerRead = ReadExactly(handle, header, 0);
            }
            catch (IOException ex)
            {
                throw Unreadable(id, ex);
            }

            if (headerRead != HeaderSize)
            {
                throw new DataCorruptionException($"Chunk {id} is truncated: the file holds {fileLength} bytes, fewer than its {HeaderSize}-byte header.");
            }

            if (!header[..8].SequenceEqual(Magic))
            {
                throw new DataCorruptionException($"Chunk {id} has a damaged header: it does not start with the chunk file magic \"BSCHUNK1\".");
            }

            var length = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
            var checksum = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
            if (length < 0 || length > int.MaxValue || fileLength != HeaderSize + length)
            {
                throw new DataCorruptionException($"Chunk {id} is truncated or damaged: its header says {length} bytes of content, the file holds {fileLength - HeaderSize}.");
            }

            if (destination.Length < length)
            {
                throw new ArgumentException($"Chunk {id} holds {length} bytes; the destination has room for {destination.Length}.", nameof(destination));
            }

            var content = destination[..(int)length];
            int read;
            try
            {
                read = ReadExactly(handle, content, HeaderSize);
            }
            catch (IOException ex)
            {
                content.Clear();
                throw Unreadable(id, ex);
            }

            if (read != length)
            {
                content.Clear();
                throw new DataCorruptionException($"Chunk {id} is truncated: {read} of its {length} bytes could be read.");
            }

            if (XxHash3.HashToUInt64(content) != checksum)
            {
                // The caller's buffer holds unverified bytes; clear them so nothing wrong can leak on.
                content.Clear();
                throw new DataCorruptionException($"Chunk {id} fails its checksum: its stored bytes have changed since it was written.");
            }

            return read;
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();

        // File.Delete is silent when the file is absent, so two concurrent deletes would both report
        // success. Renaming into .tmp first lets exactly one of them claim the file; a crash between
        // the rename and the delete leaves a temporary file, removed at the next open.
        var claimed = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            File.Move(GetPath(id), claimed);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ValueTask.FromResult(false);
        }

        TryDelete(claimed);
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChunkId> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        for (var shard = 0; shard < ShardCount; shard++)
        {
            IEnumerable<string> files;
            try
            {
                files = Directory.EnumerateFiles(_shards[shard]);
            }
            catch (DirectoryNotFoundException)
            {
                continue;
            }

            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // Only what the store itself would have written: a lowercase id in its own shard.
                var name = Path.GetFileName(file.AsSpan());
                if (ChunkId.TryParse(name, out var id) && id.FirstByte == shard && IsLowerHex(name)) yield return id;
            }
        }
    }

    /// <summary>The file of a chunk: <c>root/ab/abcd…</c>. Only hexadecimal digits of the id form the path.</summary>
    internal string GetPath(ChunkId id) => Path.Combine(_shards[id.FirstByte], id.ToString());

    /// <summary>Deletes temporary files left by writes or deletes that never finished; returns how many.</summary>
    /// <remarks>Call only while no write is in progress: it would delete that write's temporary file.</remarks>
    internal int RemoveTemporaryFiles()
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(_temp))
        {
            if (TryDelete(file)) removed++;
        }

        return removed;
    }

    /// <summary>Releases the folder's lock so another store may open it. Calling it again does nothing.</summary>
    public void Dispose() => Interlocked.Exchange(ref _lock, null)?.Dispose();

    private static FileStream TakeLock(string root)
    {
        // FileShare.None is an exclusive lock on every platform (flock on Unix), held for the store's life.
        var path = Path.Combine(root, LockFileName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.None);
        }
        catch (IOException ex)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The chunk folder '{root}' is in use by another store, in this process or another; open it in one place at a time.", ex);
        }
    }

    private static string DeepestExisting(string path)
    {
        var folder = path;
        while (!Directory.Exists(folder) && Path.GetDirectoryName(folder) is { } parent) folder = parent;
        return folder;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _lock) is null, this);

    private static DataCorruptionException Unreadable(ChunkId id, IOException ex) =>
        new($"Chunk {id} could not be read: {ex.Message}", ex);

    private static int ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer[read..], offset + read);
            if (n == 0) break;
            read += n;
        }

        return read;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
        {
            if (c is (< '0' or > '9') and (< 'a' or > 'f')) return false;
        }

        return true;
    }

    private static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> content)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], content.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], XxHash3.HashToUInt64(content));
        header[24..HeaderSize].Clear();
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
