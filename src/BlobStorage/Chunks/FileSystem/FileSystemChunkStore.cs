using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Stores chunks as files named by their id (see <see cref="ChunkId"/>) under a folder, sharded by the id's first byte
/// (<c>ab/abcd…</c>). New files are <c>BSCHUNK2</c> (see <see cref="BlockChunkFormat"/>): a header, an XxHash3 per
/// 64 KiB block, the content; a read verifies each block as it reads it and a range reads only the blocks it
/// covers. Files of the first format, <c>BSCHUNK1</c> (a 32-byte header: magic, length, XxHash3 of the whole
/// content, first 8 bytes of the id; then the content), stay readable: the read path dispatches on the magic,
/// over those two and the compressed format of the storage classes that ask for it, <c>BSCHUNKZ</c>
/// (FileSystemChunkStore.Compressed.cs; a range of such a chunk is read by decompressing it whole).
/// No read returns or hands on a byte that failed its checksum. A write goes
/// to a temporary file that is flushed, renamed into place and made durable by flushing the shard
/// folder. Only hexadecimal ids ever form a path, so no input can reach outside the folder.
/// One process at a time: the folder is locked while the store is open.
/// </summary>
public sealed partial class FileSystemChunkStore : IChunkStore, IChunkStager, IStoreMarker, IChunkChecksumSource, IDisposable
{
    internal const int HeaderSize = 32;

    // Checksummed and written at a time: well inside a core's L2 cache.
    private const int WriteSliceSize = 128 * 1024;
    internal static ReadOnlySpan<byte> Magic => "BSCHUNK1"u8;
    internal const string TempFolderName = ".tmp";
    internal const string LockFileName = ".lock";
    internal const string MarkerFileName = ".store-id";
    private const int MaxMarkerLength = 256;

    /// <summary>Chunk flushes that run at once: enough for the disk and its journal to take several together.</summary>
    private const int FlushThreads = 8;

    // A range read hands its blocks on in batches this large: the consumer starts on the first while the next are read.
    private const int RangeFlushBytes = BlockChunkFormat.ReadBatchSize;

    private readonly ChunkFileSystem _files;
    private readonly string _root;
    private readonly string _temp;
    private readonly string[] _shards = new string[256];
    private readonly Lock _writesGate = new();
    private readonly Dictionary<ChunkId, TaskCompletionSource> _writing = [];
    private readonly HashSet<ChunkId> _notDurable = [];

    // Flushes block in the kernel for milliseconds; on threads of their own they never starve the pool.
    private readonly DedicatedWorkers _flushers = new(FlushThreads, "BlobStorage chunk flush");

    // 0: new chunks are written in the first format (kept for tests of old stores).
    private readonly int _blockSize;

    // Range reads keep chunk files open: a 1-byte range then costs one read of its block, not five more system calls.
    // With 256 kept open, ranges spread over two 1 GiB blobs (512 chunks) missed half the time, each miss an open, a
    // header read and a close; how many are kept now follows the descriptor limit.
    private readonly OpenChunkCache _openChunks = new(DescriptorLimit.ChunkFilesKeptOpen);
    private FileStream? _lock;

    /// <summary>Opens (creating if needed) the chunk folder, takes its lock and removes temporary files a crash left.</summary>
    /// <exception cref="BlobStorageException">Another store holds the folder (<see cref="BlobErrorCode.StoreUnavailable"/>).</exception>
    public FileSystemChunkStore(string directory)
        : this(directory, PhysicalChunkFileSystem.Instance)
    {
    }

    /// <summary>Opens the store over another file layer (a fault-injecting one in tests).</summary>
    /// <param name="directory">The chunk folder.</param>
    /// <param name="files">The file layer.</param>
    /// <param name="blockSize">The block size of new <c>BSCHUNK2</c> files; 0 writes <c>BSCHUNK1</c> files, as stores before it did.</param>
    internal FileSystemChunkStore(string directory, ChunkFileSystem files, int blockSize = BlockChunkFormat.DefaultBlockSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _files = files;
        _blockSize = blockSize;
        _root = Path.GetFullPath(directory);
        _temp = Path.Combine(_root, TempFolderName);
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = Path.Combine(_root, i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }

        try
        {
            var existing = DeepestExisting(_root);
            _files.CreateDirectory(_root);
            _lock = TakeLock(_root);
            try
            {
                _files.CreateDirectory(_temp);
                foreach (var shard in _shards) _files.CreateDirectory(shard);

                // The root unconditionally: a previous open may have created the shards and crashed
                // before its flush, leaving entries that exist now but would not survive a power cut.
                _files.FlushDirectory(_root);
                for (var folder = Path.GetDirectoryName(_root); folder is not null && folder.Length >= existing.Length; folder = Path.GetDirectoryName(folder))
                {
                    // Every folder this open created needs its own entry made durable in its parent.
                    _files.FlushDirectory(folder);
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
    public ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        WriteCoreAsync(id, content, Tiers.ChunkCompression.None, cancellationToken);

    private async ValueTask<bool> WriteCoreAsync(ChunkId id, ReadOnlyMemory<byte> content, Tiers.ChunkCompression compression, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var path = GetPath(id);
        var mine = await ClaimAsync(id, path, cancellationToken).ConfigureAwait(false);
        if (mine is null) return false;
        try
        {
            var temp = WriteTemporary(id, content, compression, mine, out var file);
            MakeDurable(id, path, temp, file, mine);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            throw Writing(id, ex);
        }

        return true;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The same protocol as <see cref="WriteAsync"/>, cut in two: the bytes go to a temporary file
    /// before this returns, and its flush, rename and directory flush run on a flush thread, so an
    /// upload hashes and writes its next chunks while the disk makes this one durable. The chunk
    /// counts as in flight (a second write of it waits) until the returned task ends.
    /// </remarks>
    ValueTask<Task?> IChunkStager.StageAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        StageCoreAsync(id, content, Tiers.ChunkCompression.None, cancellationToken);

    private async ValueTask<Task?> StageCoreAsync(ChunkId id, ReadOnlyMemory<byte> content, Tiers.ChunkCompression compression, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var path = GetPath(id);
        var mine = await ClaimAsync(id, path, cancellationToken).ConfigureAwait(false);
        if (mine is null) return null;
        string temp;
        ChunkFileSystem.WritableFile file;
        try
        {
            temp = WriteTemporary(id, content, compression, mine, out file);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            throw Writing(id, ex);
        }

        return FlushLater(id, path, temp, file, mine);
    }

    /// <summary><see cref="MakeDurable"/> on a flush thread; the task faults with the failure as a <see cref="BlobStorageException"/>.</summary>
    private Task FlushLater(ChunkId id, string path, string temp, ChunkFileSystem.WritableFile file, TaskCompletionSource mine) =>
        _flushers.Run(() =>
        {
            try
            {
                MakeDurable(id, path, temp, file, mine);
            }
            catch (Exception ex) when (StorageFailures.IsIO(ex))
            {
                throw Writing(id, ex);
            }
        });

    /// <summary>A new name for a temporary file, in the store's own temporary folder.</summary>
    private string NewTemporaryPath() => Path.Combine(_temp, Guid.NewGuid().ToString("N"));

    private BlobStorageException Writing(ChunkId id, Exception ex) => StorageFailures.From(ex, $"writing chunk {id} to '{_root}'");

    /// <summary>
    /// Claims the right to write a chunk, or returns null when it is already stored durably. While
    /// another write of the same chunk is in flight, waits for it and looks again.
    /// </summary>
    private async ValueTask<TaskCompletionSource?> ClaimAsync(ChunkId id, string path, CancellationToken cancellationToken)
    {
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
                    if (inFlight is null && !_notDurable.Contains(id)) return null;
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

            if (mine is not null) return mine;
            await inFlight!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes header and content to a new temporary file, left open for its flush; on failure releases the claim.</summary>
    private string WriteTemporary(ChunkId id, ReadOnlyMemory<byte> content, Tiers.ChunkCompression compression, TaskCompletionSource mine, out ChunkFileSystem.WritableFile file)
    {
        if (compression != Tiers.ChunkCompression.None && TryWriteCompressedTemporary(id, content, compression, mine, out file) is { } compressed) return compressed;
        var header = ArrayPool<byte>.Shared.Rent(HeaderSize);
        var temp = NewTemporaryPath();
        ChunkFileSystem.WritableFile? created = null;
        try
        {
            if (_blockSize > 0)
            {
                created = _files.CreateNew(temp, BlockChunkFormat.FileLength(content.Length, _blockSize));
                BlockChunkFormat.Write(created, id, content, _blockSize);
                CrashPoints.Reach(CrashPoints.ChunkTempWritten);
                file = created;
                return temp;
            }

            created = _files.CreateNew(temp, HeaderSize + content.Length);

            // Checksummed and written a slice at a time, so each slice is read from memory once and
            // copied into the file from the core's cache: a checksum pass over the whole chunk followed
            // by one write of it read every byte from memory twice.
            var checksum = new XxHash3();
            for (var offset = 0; offset < content.Length; offset += WriteSliceSize)
            {
                var slice = content.Slice(offset, Math.Min(WriteSliceSize, content.Length - offset));
                checksum.Append(slice.Span);
                created.Write([slice], HeaderSize + offset);
            }

            WriteHeader(header.AsSpan(0, HeaderSize), id, content.Length, checksum.GetCurrentHashAsUInt64());
            created.Write([header.AsMemory(0, HeaderSize)], 0);
            CrashPoints.Reach(CrashPoints.ChunkTempWritten);
            file = created;
            return temp;
        }
        catch
        {
            created?.Dispose();
            TryDelete(temp);
            Release(id, mine);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <summary>Flushes the temporary file, renames it into place and flushes the shard folder; then releases the claim.</summary>
    private void MakeDurable(ChunkId id, string path, string temp, ChunkFileSystem.WritableFile file, TaskCompletionSource mine)
    {
        var renamed = false;
        try
        {
            using (file)
            {
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
            Release(id, mine);
        }
    }

    private void Release(ChunkId id, TaskCompletionSource mine)
    {
        lock (_writesGate) _writing.Remove(id);
        mine.SetResult();
    }

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        return ValueTask.FromResult(Read(id, destination.Span));
    }

    /// <inheritdoc />
    /// <remarks>
    /// A <c>BSCHUNK2</c> file is read block by block, each block straight into the writer's memory and verified
    /// there while it is in cache, and only the blocks the range covers; a file of another format is read whole,
    /// verified, and the slice written.
    /// </remarks>
    public async ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, PipeWriter destination, CancellationToken cancellationToken = default)
    {
        ChunkRanges.Validate(chunk, offset, count, destination);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var entry = _openChunks.Rent(chunk.Id) ?? OpenBlockFormat(chunk.Id);
        if (entry is not null)
        {
            try
            {
                ChunkRanges.ExpectLength(chunk, entry.Reader.Length);
                await entry.Reader.CopyToAsync(offset, count, destination, RangeFlushBytes, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever failed, the next read opens the file afresh (a repaired copy, or the error again).
                _openChunks.Drop(entry);
                throw;
            }
            finally
            {
                _openChunks.Return(entry);
            }
        }

        // Any other format: verified whole, then the slice.
        await ChunkRanges.ReadWholeAsync(chunk, offset, count, destination, (id, buffer, _) => ValueTask.FromResult(Read(id, buffer.Span)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a <c>BSCHUNK2</c> file and checks its header, lent through the open-file cache; null for another format.</summary>
    private OpenChunkCache.Entry? OpenBlockFormat(ChunkId id)
    {
        var removals = _openChunks.Removals;
        var file = OpenChunk(id);
        BlockChunkFormat.Reader? reader;
        try
        {
            reader = BlockChunkFormat.Reader.TryOpen(file, id, FileLength(file, id));
        }
        catch
        {
            file.Dispose();
            throw;
        }

        if (reader is null)
        {
            file.Dispose();
            return null;
        }

        return _openChunks.Add(id, file, reader, removals);
    }

    private ChunkFileSystem.ReadableFile OpenChunk(ChunkId id)
    {
        try
        {
            return _files.OpenRead(GetPath(id));
        }
        catch (FileNotFoundException ex)
        {
            throw new DataCorruptionException($"Chunk {id} is missing from '{_root}'.", ex);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            // Permissions, a folder in the file's place, a failing disk: typed, so a replica can serve instead.
            throw StorageFailures.From(ex, $"opening chunk {id} in '{_root}'");
        }
    }

    private static long FileLength(ChunkFileSystem.ReadableFile file, ChunkId id)
    {
        try
        {
            return file.Length;
        }
        catch (IOException ex)
        {
            throw Unreadable(id, ex);
        }
    }

    private int Read(ChunkId id, Span<byte> destination)
    {
        var file = OpenChunk(id);
        using (file)
        {
            var fileLength = FileLength(file, id);

            // The formats a chunk file may have, by their magic, so every format ever written stays readable;
            // each reader checks every byte it returns. BSCHUNK2 first: its magic, header and table in one read.
            using (var reader = BlockChunkFormat.Reader.TryOpen(file, id, fileLength))
            {
                if (reader is not null) return ReadBlockFormat(reader, id, destination);
            }

            Span<byte> header = stackalloc byte[HeaderSize];
            int headerRead;
            try
            {
                headerRead = ReadExactly(file, header, 0);
            }
            catch (IOException ex)
            {
                throw Unreadable(id, ex);
            }

            if (headerRead != HeaderSize)
            {
                throw new DataCorruptionException($"Chunk {id} is truncated: the file holds {fileLength} bytes, fewer than its {HeaderSize}-byte header.");
            }

            if (header[..8].SequenceEqual(CompressedMagic)) return ReadCompressed(id, file, fileLength, destination);
            if (!header[..8].SequenceEqual(Magic))
            {
                throw new DataCorruptionException($"Chunk {id} has a damaged header: it does not start with the chunk file magic.");
            }

            Span<byte> expectedName = stackalloc byte[ChunkId.Size];
            id.WriteTo(expectedName);
            if (!header[24..HeaderSize].SequenceEqual(expectedName[..8]))
            {
                throw new DataCorruptionException($"Chunk {id} is damaged or misplaced: its header names another chunk.");
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
                read = ReadExactly(file, content, HeaderSize);
            }
            catch (IOException ex)
            {
                content.Clear();
                throw Unreadable(id, ex);
            }

            if (read != length)
            {
                content.Clear();
                throw new DataCorruptionException($"Chunk {id} is truncated: {read} of {length} bytes could be read.");
            }

            if (BlockChecksum.Compute(content) != checksum)
            {
                // The caller's buffer holds unverified bytes; clear them so nothing wrong can leak on.
                content.Clear();
                throw new DataCorruptionException($"Chunk {id} fails its checksum: its stored bytes have changed since it was written.");
            }

            return read;
        }
    }

    private static int ReadBlockFormat(BlockChunkFormat.Reader reader, ChunkId id, Span<byte> destination)
    {
        if (destination.Length < reader.Length)
        {
            throw new ArgumentException($"Chunk {id} holds {reader.Length} bytes; the destination has room for {destination.Length}.", nameof(destination));
        }

        reader.ReadAll(destination[..(int)reader.Length]);
        return (int)reader.Length;
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();

        // A plain delete is silent when the file is absent, so two concurrent deletes would both report
        // success. Renaming into .tmp first lets exactly one of them claim the file; a crash between
        // the rename and the delete leaves a temporary file, removed at the next open.
        var claimed = Path.Combine(_temp, Guid.NewGuid().ToString("N"));

        // Its kept handle goes first, so the file's space is freed with it and no later read finds it open.
        _openChunks.Remove(id);
        try
        {
            _files.Move(GetPath(id), claimed, overwrite: false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ValueTask.FromResult(false);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            return ValueTask.FromException<bool>(StorageFailures.From(ex, $"deleting chunk {id} from '{_root}'"));
        }

        TryDelete(claimed);
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        try
        {
            return ValueTask.FromResult(_files.GetLastWriteTime(GetPath(id)));
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            return ValueTask.FromException<DateTimeOffset?>(StorageFailures.From(ex, $"reading the time of chunk {id} in '{_root}'"));
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChunkId> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await Task.Yield();
        var ids = new List<ChunkId>();
        foreach (var shard in _shards)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_files.DirectoryExists(shard)) continue;
            ids.Clear();
            try
            {
                foreach (var file in _files.EnumerateFiles(shard))
                {
                    if (ChunkId.TryParse(Path.GetFileName(file.AsSpan()), out var id) && GetPath(id) == file) ids.Add(id);
                }
            }
            catch (Exception ex) when (StorageFailures.IsIO(ex))
            {
                throw StorageFailures.From(ex, $"listing the chunk folder '{shard}'");
            }

            foreach (var id in ids) yield return id;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// <c>BSCHUNK1</c>: the XxHash3 of the content its header keeps. <c>BSCHUNK2</c>: the XxHash3 of its block table
    /// (the XxHash3 of each block), once the header check holds; it reads header and table only, never a block.
    /// <c>BSCHUNKZ</c> and damaged files: null.
    /// </remarks>
    ulong? IChunkChecksumSource.ReadStoredChecksum(ChunkId id)
    {
        ThrowIfDisposed();
        try
        {
            using var file = _files.OpenRead(GetPath(id));
            Span<byte> header = stackalloc byte[HeaderSize];
            if (ReadExactly(file, header, 0) != HeaderSize) return null;
            if (header[..8].SequenceEqual(BlockChunkFormat.Magic))
            {
                using var reader = BlockChunkFormat.Reader.Open(file, id, file.Length);
                return reader.TableChecksum();
            }

            if (!header[..8].SequenceEqual(Magic)) return null;
            return BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        }
        catch (DataCorruptionException)
        {
            return null;
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            return null;
        }
    }

    string IStoreMarker.Location => _root;

    /// <inheritdoc />
    string? IStoreMarker.ReadStoreId()
    {
        ThrowIfDisposed();
        var path = Path.Combine(_root, MarkerFileName);
        try
        {
            if (!_files.FileExists(path)) return null;
            using var file = _files.OpenRead(path);
            Span<byte> buffer = stackalloc byte[MaxMarkerLength];
            var read = ReadExactly(file, buffer, 0);
            var text = System.Text.Encoding.UTF8.GetString(buffer[..read]).Trim();
            if (read == MaxMarkerLength || text.Length == 0 || !text.All(char.IsAsciiHexDigitLower))
            {
                throw new BlobStorageException(
                    BlobErrorCode.StoreUnavailable,
                    $"The store marker '{path}' is damaged: it should hold the store's id as lowercase hexadecimal digits. Restore it from a backup, or write into it the id that SELECT store_id FROM store gives in the store's metadata database.");
            }

            return text;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            throw StorageFailures.From(ex, $"reading the store marker '{path}'");
        }
    }

    /// <inheritdoc />
    void IStoreMarker.WriteStoreId(string storeId)
    {
        ThrowIfDisposed();
        var path = Path.Combine(_root, MarkerFileName);
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(storeId + "\n");
            using (var file = _files.CreateNew(temp, bytes.Length))
            {
                file.Write([bytes], 0);
                file.Flush();
            }

            _files.Move(temp, path, overwrite: false);
            _files.FlushDirectory(_root);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            TryDelete(temp);
            throw StorageFailures.From(ex, $"writing the store marker '{path}'");
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

    /// <summary>Releases the folder's lock so another store may open it. Calling it again does nothing.</summary>
    public void Dispose()
    {
        _flushers.Dispose();
        _openChunks.Dispose();
        Interlocked.Exchange(ref _lock, null)?.Dispose();
    }

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

    private string DeepestExisting(string path)
    {
        var folder = path;
        while (!_files.DirectoryExists(folder) && Path.GetDirectoryName(folder) is { } parent) folder = parent;
        return folder;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _lock) is null, this);

    private static DataCorruptionException Unreadable(ChunkId id, IOException ex) =>
        new($"Chunk {id} could not be read: {ex.Message}", ex);

    private static int ReadExactly(ChunkFileSystem.ReadableFile file, Span<byte> buffer, long offset)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = file.Read(buffer[read..], offset + read);
            if (n == 0) break;
            read += n;
        }

        return read;
    }

    private static void WriteHeader(Span<byte> header, ChunkId id, long length, ulong checksum)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], checksum);
        // The first 8 bytes of the chunk's id tie the file to its name: a file copied or renamed over
        // another chunk's is caught although its own checksum holds.
        Span<byte> name = stackalloc byte[ChunkId.Size];
        id.WriteTo(name);
        name[..8].CopyTo(header[24..HeaderSize]);
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
