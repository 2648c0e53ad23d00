using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Enumeration;
using System.Security.Cryptography;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// <c>file-store</c>, the physical baseline: what an application writes by hand. A put goes to a
/// temporary file, is flushed (<c>Flush(true)</c>), renamed over its target and the target's
/// folder flushed; a get opens the file and copies it. Blob names map onto one folder hierarchy
/// ("a/b/c" is the file c in folder a/b), so listing a prefix is a directory listing. Folders are
/// created on first use and their parent flushed, so a new folder survives a power cut too.
/// </summary>
internal sealed class FilePeerStore : IPeerStore
{
    private const int MaxBufferSize = 1024 * 1024;

    private readonly string _blobs;
    private readonly string _temporary;
    private readonly ConcurrentDictionary<string, bool> _knownFolders = new(StringComparer.Ordinal);

    public FilePeerStore(string root) => (_blobs, _temporary) = CreateLayout(root);

    public string Name => "file-store";

    public bool Durable => true;

    public string Description => "temporary file, Flush(true), File.Move over the target, fsync of the target's folder";

    public ValueTask PutAsync(string name, Stream content, CancellationToken cancellationToken = default) =>
        new(WriteAsync(name, content, hash: null, cancellationToken));

    /// <summary>Writes the file durably; returns its length. Hashes the bytes on the way when given a hash.</summary>
    internal async Task<long> WriteAsync(string name, Stream content, IncrementalHash? hash, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        var folder = Path.GetDirectoryName(path)!;
        EnsureFolder(folder);
        var temporary = Path.Combine(_temporary, Guid.NewGuid().ToString("N"));
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSizeFor(content.CanSeek ? content.Length - content.Position : MaxBufferSize));
        long length = 0;
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash?.AppendData(buffer, 0, read);
                    file.Write(buffer, 0, read);
                    length += read;
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        DirectorySync.Flush(folder);
        return length;
    }

    public async ValueTask GetAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        using var file = new FileStream(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSizeFor(file.Length));
        try
        {
            int read;
            while ((read = file.Read(buffer)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public bool SupportsRanges => true;

    /// <summary>Opens the file and reads the range at its offset, as an application reads part of a file.</summary>
    public async ValueTask GetRangeAsync(string name, long offset, int length, Stream destination, CancellationToken cancellationToken = default)
    {
        using var file = File.OpenHandle(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var read = 0;
            int n;
            while (read < length && (n = RandomAccess.Read(file, buffer.AsSpan(read, length - read), offset + read)) > 0)
            {
                read += n;
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public ValueTask<int> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        // The folder the prefix ends in is listed, keeping the entries that start with the prefix's
        // last segment; a folder that matches counts every file below it.
        var slash = prefix.LastIndexOf('/');
        var folder = slash < 0 ? _blobs : Path.Combine(_blobs, prefix[..slash]);
        var leaf = slash < 0 ? prefix : prefix[(slash + 1)..];
        if (!Directory.Exists(folder))
        {
            return ValueTask.FromResult(0);
        }

        var entries = new FileSystemEnumerable<(string Name, bool IsFolder)>(
            folder,
            (ref FileSystemEntry entry) => (entry.FileName.ToString(), entry.IsDirectory))
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => entry.FileName.StartsWith(leaf, StringComparison.Ordinal),
        };
        var count = 0;
        foreach (var (entryName, isFolder) in entries)
        {
            count += isFolder
                ? Directory.EnumerateFiles(Path.Combine(folder, entryName), "*", SearchOption.AllDirectories).Count()
                : 1;
        }

        return ValueTask.FromResult(count);
    }

    public ValueTask DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        File.Delete(path);
        DirectorySync.Flush(Path.GetDirectoryName(path)!);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static int BufferSizeFor(long length) => (int)Math.Clamp(length, 1, MaxBufferSize);

    private string PathOf(string name) => PathUnder(_blobs, name);

    /// <summary>Creates a file store's folders under <paramref name="root"/>, durably: one for blobs and one for temporary files.</summary>
    internal static (string Blobs, string Temporary) CreateLayout(string root)
    {
        var blobs = Path.Combine(root, "blobs");
        var temporary = Path.Combine(root, "tmp");
        Directory.CreateDirectory(blobs);
        Directory.CreateDirectory(temporary);
        DirectorySync.Flush(root);
        return (blobs, temporary);
    }

    /// <summary>Where a blob name lands below <paramref name="folder"/>; the names the runner uses are plain, but still no name may leave the folder.</summary>
    internal static string PathUnder(string folder, string name)
    {
        if (name.Length == 0 || name[0] == '/' || name[^1] == '/' || name.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a valid blob name for the file store.", nameof(name));
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                throw new ArgumentException($"'{name}' has an empty, '.' or '..' segment.", nameof(name));
            }
        }

        return Path.Combine(folder, name);
    }

    /// <summary>Creates the missing folders top-down, flushing each new one's parent so its entry is durable.</summary>
    internal static void CreateFolders(string folder)
    {
        var missing = new Stack<string>();
        for (var f = folder; !Directory.Exists(f); f = Path.GetDirectoryName(f)!)
        {
            missing.Push(f);
        }

        while (missing.TryPop(out var f))
        {
            Directory.CreateDirectory(f);
            DirectorySync.Flush(Path.GetDirectoryName(f)!);
        }
    }

    private void EnsureFolder(string folder)
    {
        if (_knownFolders.ContainsKey(folder))
        {
            return;
        }

        CreateFolders(folder);
        _knownFolders.TryAdd(folder, true);
    }
}
