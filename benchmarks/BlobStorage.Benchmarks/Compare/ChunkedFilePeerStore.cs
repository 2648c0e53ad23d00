using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// <c>file-store-chunked</c>: the least a content-addressed store of 4 MiB chunk files does, with no
/// checksum and no metadata. A put hashes the whole blob with SHA-256 as it reads it and cuts it into
/// 4 MiB pieces; each piece is hashed with SHA-256 (its file is named by that hash, after its number),
/// written to a temporary file, flushed, renamed into the blob's folder and that folder flushed, with
/// up to 8 pieces of one put being hashed and flushed while the next are read. That is the work
/// BlobStorage's large puts cannot avoid (its default chunk size, its two SHA-256 passes, its flush
/// protocol), so the engine is measured against it too. Below one piece a blob is one file and the
/// peer is <c>file-store</c> plus hashing, so it runs only larger sizes.
/// </summary>
internal sealed class ChunkedFilePeerStore : IPeerStore
{
    public const int PieceSize = 4 * 1024 * 1024;
    private const int MaxFlushing = 8;

    private readonly string _blobs;
    private readonly string _temporary;

    public ChunkedFilePeerStore(string root) => (_blobs, _temporary) = FilePeerStore.CreateLayout(root);

    public string Name => "file-store-chunked";

    public bool Durable => true;

    public string Description => "file-store cut into 4 MiB files, each named by its SHA-256, written to a temporary file, Flush(true), renamed into the blob's folder and the folder fsync'ed (up to 8 in flight per put), the whole blob hashed with SHA-256 as it is read; sizes above 4 MiB only";

    public long SmallestSize => PieceSize + 1L;

    public async ValueTask PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        var folder = FolderOf(name);
        FilePeerStore.CreateFolders(folder);
        using var blobHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var flushing = new Queue<Task>();
        var written = new ConcurrentBag<string>();
        var free = new ConcurrentBag<byte[]>();
        try
        {
            for (var index = 0; ; index++)
            {
                // At most 8 pieces in flight and one being read: their buffers go round.
                if (!free.TryTake(out var piece)) piece = GC.AllocateUninitializedArray<byte>(PieceSize);
                var read = await content.ReadAtLeastAsync(piece, PieceSize, throwOnEndOfStream: false, cancellationToken);
                if (read == 0 && index > 0) break;
                blobHash.AppendData(piece, 0, read);
                var number = index;
                flushing.Enqueue(Task.Run(
                    () =>
                    {
                        written.Add(Store(piece, read, folder, number));
                        free.Add(piece);
                    },
                    cancellationToken));
                while (flushing.Count >= MaxFlushing) await flushing.Dequeue();
                if (read < PieceSize) break;
            }
        }
        finally
        {
            // Every flush ends before the put returns (or throws), so no piece is left half made.
            await Task.WhenAll(flushing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var task in flushing) await task;
        _ = blobHash.GetHashAndReset();

        // A blob put over another drops the old blob's pieces.
        var stale = false;
        foreach (var old in Directory.EnumerateFiles(folder).Except(written, StringComparer.Ordinal).ToList())
        {
            File.Delete(old);
            stale = true;
        }

        if (stale) DirectorySync.Flush(folder);
    }

    public async ValueTask GetAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(PieceSize);
        foreach (var path in Directory.EnumerateFiles(FolderOf(name)).Order(StringComparer.Ordinal))
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            var length = (int)RandomAccess.GetLength(file);
            var read = 0;
            while (read < length)
            {
                var n = RandomAccess.Read(file, buffer.AsSpan(read, length - read), read);
                if (n == 0) throw new InvalidDataException($"Piece {path} ended after {read} of {length} bytes.");
                read += n;
            }

            await destination.WriteAsync(buffer.AsMemory(0, length), cancellationToken);
        }
    }

    public ValueTask<int> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("file-store-chunked is measured for large puts and gets only; list file-store instead.");

    public ValueTask DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var folder = FolderOf(name);
        Directory.Delete(folder, recursive: true);
        DirectorySync.Flush(Path.GetDirectoryName(folder)!);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Hashes a piece, writes it under its number and hash, and makes it durable; returns its path.</summary>
    private string Store(byte[] piece, int length, string folder, int number)
    {
        var target = Path.Combine(folder, number.ToString("D5", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(SHA256.HashData(piece.AsSpan(0, length))));
        var temporary = Path.Combine(_temporary, Guid.NewGuid().ToString("N"));
        var file = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, length);
        try
        {
            RandomAccess.Write(file, piece.AsSpan(0, length), 0);
            RandomAccess.FlushToDisk(file);
        }
        catch
        {
            file.Dispose();
            File.Delete(temporary);
            throw;
        }

        file.Dispose();
        File.Move(temporary, target, overwrite: true);
        DirectorySync.Flush(folder);
        return target;
    }

    private string FolderOf(string name) => FilePeerStore.PathUnder(_blobs, name);
}
