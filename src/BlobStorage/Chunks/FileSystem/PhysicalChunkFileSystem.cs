using Microsoft.Win32.SafeHandles;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>The real disk, through <see cref="RandomAccess"/> and one handle per file.</summary>
internal sealed class PhysicalChunkFileSystem : ChunkFileSystem
{
    public static PhysicalChunkFileSystem Instance { get; } = new();

    public override void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public override bool DirectoryExists(string path) => Directory.Exists(path);

    public override bool FileExists(string path) => File.Exists(path);

    public override WritableFile CreateNew(string path, long preallocate)
    {
        try
        {
            return new Writable(File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, preallocate));
        }
        catch (IOException ex) when (preallocate > 0 && ex.HResult == GenericIOError && IsShortOf(path, preallocate))
        {
            // A preallocation the disk has no room for fails with .NET's generic I/O error (its message says
            // "disk was full", in the runtime's language): given the code of a full disk, so callers can tell.
            throw new DiskFullException(ex.Message, ex);
        }
    }

    private const int GenericIOError = unchecked((int)0x80131620);

    private static bool IsShortOf(string path, long bytes)
    {
        try
        {
            return new DriveInfo(Path.GetDirectoryName(path)!).AvailableFreeSpace < bytes;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    public override ReadableFile OpenRead(string path)
    {
        if (ReadOnlyOpen.TryOpen(path, out var stat) is { } opened) return new Readable(opened, stat);
        try
        {
            return new Readable(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete), null);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new FileNotFoundException(ex.Message, path, ex);
        }
    }

    public override void Move(string source, string destination, bool overwrite = true)
    {
        try
        {
            File.Move(source, destination, overwrite);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new FileNotFoundException(ex.Message, source, ex);
        }
    }

    public override void FlushDirectory(string path) => DirectoryFlush.Flush(path);

    public override void DeleteFile(string path) => File.Delete(path);

    public override IEnumerable<string> EnumerateFiles(string directory) => Directory.EnumerateFiles(directory);

    public override DateTimeOffset? GetLastWriteTime(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero) : null;
    }

    /// <summary>An <see cref="IOException"/> with the code of a full disk (ERROR_DISK_FULL), which <see cref="Internal.StorageFailures"/> recognizes.</summary>
    private sealed class DiskFullException : IOException
    {
        public DiskFullException(string message, Exception inner)
            : base(message, inner) => HResult = unchecked((int)0x80070070);
    }

    private sealed class Writable(SafeFileHandle handle) : WritableFile
    {
        public override void Write(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset) => RandomAccess.Write(handle, buffers, offset);

        public override void Flush() => RandomAccess.FlushToDisk(handle);

        public override void Dispose() => handle.Dispose();
    }

    /// <summary>A file open for reading; <paramref name="opened"/> is what <c>fstat</c> said of it at its open, when it was read then.</summary>
    private sealed class Readable(SafeFileHandle handle, FileStat? opened) : ReadableFile
    {
        // The link count read at the open answers the first question (is the file just opened still named?); later ones ask again.
        private bool _linkedAtOpen = opened is { Links: > 0 };

        // A chunk file never changes once it has its name, so its length at the open is its length.
        public override long Length => opened?.Length ?? RandomAccess.GetLength(handle);

        public override int Read(Span<byte> destination, long offset) => RandomAccess.Read(handle, destination, offset);

        public override bool IsLinked()
        {
            if (_linkedAtOpen)
            {
                _linkedAtOpen = false;
                return true;
            }

            return FileLinks.IsLinked(handle);
        }

        public override void Dispose() => handle.Dispose();
    }
}
