using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Stores chunks as files named by their SHA-256 under a folder, sharded by the id's first byte
/// (<c>ab/abcd…</c>). Each file is a 32-byte header (magic, length, XxHash3 of the content) and
/// the content; every read checks the header and the checksum before returning a byte. A write goes
/// to a temporary file that is flushed, renamed into place and made durable by flushing the shard
/// folder. Only hexadecimal ids ever form a path, so no input can reach outside the folder.
/// One process at a time: the folder is locked while the store is open.
/// </summary>
public sealed class FileSystemChunkStore : IChunkStore, IDisposable
{
    internal const int HeaderSize = 32;
    internal static ReadOnlySpan<byte> Magic => "BSCHUNK1"u8;
    private const string TempFolderName = ".tmp";
    private const string LockFileName = ".lock";

    private readonly ChunkFileSystem _files;
    private readonly string _root;
    private readonly string _temp;
    private readonly string[] _shards = new string[256];
    private readonly Lock _writesGate = new();
    private readonly Dictionary<ChunkId, TaskCompletionSource> _writing = [];
    private readonly HashSet<ChunkId> _notDurable = [];
    private FileStream? _lock;

    /// <summary>Opens (creating if needed) the chunk folder, takes its lock and removes temporary files a crash left.</summary>
    /// <exception cref="BlobStorageException">Another store holds the folder (<see cref="BlobErrorCode.StoreUnavailable"/>).</exception>
    public FileSystemChunkStore(string directory)
        : this(directory, PhysicalChunkFileSystem.Instance)
    {
    }

    /// <summary>Opens the store over another file layer (a fault-injecting one in tests).</summary>
    internal FileSystemChunkStore(string directory, ChunkFileSystem files)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _files = files;
        _root = Path.GetFullPath(directory);
        _files.CreateDirectory(_root);
        try
        {
            _lock = new FileStream(Path.Combine(_root, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException ex)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"The chunk folder '{_root}' is in use by another store (process or instance); open it in one place at a time.", ex);
        }

        _temp = Path.Combine(_root, TempFolderName);
        _files.CreateDirectory(_temp);
        var created = false;
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = Path.Combine(_root, i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            if (!_files.DirectoryExists(_shards[i]))
            {
                _files.CreateDirectory(_shards[i]);
                created = true;
            }
        }

        if (created) _files.FlushDirectory(_root);
        RemoveTemporaryFiles();
    }

    /// <summary>The folder that holds the chunks.</summary>
    public string DirectoryPath => _root;

    /// <inheritdoc />
    public ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return ValueTask.FromResult(_files.FileExists(GetPath(id)));
    }

    /// <inheritdoc />
    /// <remarks>
    /// "Already stored" must mean durable: a file another writer has renamed into place but whose
    /// directory is not flushed yet would vanish in a power cut after this caller's commit. So a
    /// write of a chunk waits for any write of the same chunk in flight, and a chunk whose last write
    /// failed after its rename is written again rather than trusted.
    /// </remarks>
    public async ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var path = GetPath(id);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task? inFlight;
            TaskCompletionSource? mine = null;
            lock (_writesGate)
            {
                _writing.TryGetValue(id, out var other);
                inFlight = other?.Task;
            }

            if (inFlight is null && _files.FileExists(path))
            {
                lock (_writesGate)
                {
                    // Asked again after the look at the disk: a write may have begun and renamed meanwhile.
                    _writing.TryGetValue(id, out var other);
                    inFlight = other?.Task;
                    if (inFlight is null && !_notDurable.Contains(id)) return false;
                }
            }

            if (inFlight is null)
            {
                lock (_writesGate)
                {
                    if (_writing.TryGetValue(id, out var other)) inFlight = other.Task;
                    else _writing[id] = mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            if (mine is null)
            {
                await inFlight!.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                WriteDurably(id, path, content);
                return true;
            }
            finally
            {
                lock (_writesGate) _writing.Remove(id);
                mine.SetResult();
            }
        }
    }

    private void WriteDurably(ChunkId id, string path, ReadOnlyMemory<byte> content)
    {
        var header = ArrayPool<byte>.Shared.Rent(HeaderSize);
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        var renamed = false;
        try
        {
            WriteHeader(header.AsSpan(0, HeaderSize), content.Span);
            using (var file = _files.CreateNew(temp, HeaderSize + content.Length))
            {
                file.Write([header.AsMemory(0, HeaderSize), content], 0);
                CrashPoints.Reach(CrashPoints.ChunkTempWritten);
                file.Flush();
                CrashPoints.Reach(CrashPoints.ChunkFlushed);
            }

            _files.Move(temp, path);
            renamed = true;
            CrashPoints.Reach(CrashPoints.ChunkRenamed);
            _files.FlushDirectory(Path.GetDirectoryName(path)!);
            CrashPoints.Reach(CrashPoints.ChunkDirectoryFlushed);
            lock (_writesGate) _notDurable.Remove(id);
        }
        catch
        {
            if (renamed)
            {
                lock (_writesGate) _notDurable.Add(id);
            }
            else
            {
                TryDelete(temp);
            }

            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return ValueTask.FromResult(Read(id, destination.Span));
    }

    private int Read(ChunkId id, Span<byte> destination)
    {
        ChunkFileSystem.ReadableFile file;
        try
        {
            file = _files.OpenRead(GetPath(id));
        }
        catch (FileNotFoundException ex)
        {
            throw new DataCorruptionException($"Chunk {id} is missing from '{_root}'.", ex);
        }

        using (file)
        {
            var fileLength = file.Length;
            Span<byte> header = stackalloc byte[HeaderSize];
            if (fileLength < HeaderSize || file.Read(header, 0) != HeaderSize)
            {
                throw new DataCorruptionException($"Chunk {id} is truncated: {fileLength} bytes, shorter than its {HeaderSize}-byte header.");
            }

            if (!header[..8].SequenceEqual(Magic))
            {
                throw new DataCorruptionException($"Chunk {id} has a damaged header: it does not start with the chunk file magic.");
            }

            var length = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
            var checksum = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
            if (length < 0 || length > int.MaxValue || fileLength != HeaderSize + length)
            {
                throw new DataCorruptionException($"Chunk {id} is damaged: its header says {length} bytes of content, the file holds {fileLength - HeaderSize}.");
            }

            if (destination.Length < length)
            {
                throw new ArgumentException($"Chunk {id} holds {length} bytes; the destination has room for {destination.Length}.", nameof(destination));
            }

            var content = destination[..(int)length];
            var read = 0;
            while (read < content.Length)
            {
                var n = file.Read(content[read..], HeaderSize + read);
                if (n == 0) break;
                read += n;
            }

            if (read != length)
            {
                throw new DataCorruptionException($"Chunk {id} is truncated: {read} of {length} bytes could be read.");
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
        var path = GetPath(id);
        if (!_files.FileExists(path)) return ValueTask.FromResult(false);
        _files.DeleteFile(path);
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChunkId> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await Task.Yield();
        foreach (var shard in _shards)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_files.DirectoryExists(shard)) continue;
            foreach (var file in _files.EnumerateFiles(shard))
            {
                if (ChunkId.TryParse(Path.GetFileName(file.AsSpan()), out var id) && GetPath(id) == file) yield return id;
            }
        }
    }

    /// <summary>The file of a chunk: <c>root/ab/abcd…</c>. Only hexadecimal digits of the id form the path.</summary>
    internal string GetPath(ChunkId id) => Path.Combine(_shards[id.FirstByte], id.ToString());

    /// <summary>Deletes temporary files left by writes that never finished.</summary>
    internal int RemoveTemporaryFiles()
    {
        var removed = 0;
        foreach (var file in _files.EnumerateFiles(_temp).ToList())
        {
            if (TryDelete(file)) removed++;
        }

        return removed;
    }

    /// <summary>Releases the folder's lock. Idempotent.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _lock, null)?.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_lock is null, this);

    private static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> content)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], content.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], XxHash3.HashToUInt64(content));
        header[24..HeaderSize].Clear();
    }

    private bool TryDelete(string path)
    {
        try
        {
            _files.DeleteFile(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
