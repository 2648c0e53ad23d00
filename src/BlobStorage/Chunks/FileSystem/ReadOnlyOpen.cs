using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Opens a chunk file for reading with one <c>open</c> and one <c>fstat</c>. <see cref="File.OpenHandle"/> on Unix also
/// takes an advisory lock (<c>flock</c>) to emulate <see cref="FileShare"/>, checks the file's type and, once closed,
/// releases the lock: with the length asked for separately, a chunk's first read made six system calls around its data
/// where this makes three (open, fstat, close). Nothing in the store takes a lock on a chunk file, so none is needed; the
/// one <c>fstat</c> gives the length, the link count (<see cref="FileLinks"/>) and the check that the path is a regular file.
/// </summary>
/// <remarks>
/// Linux on x64 and Arm64 only, where <see cref="FileLinks"/> knows <c>struct stat</c>. Any failure returns null, and the
/// caller opens the path through .NET instead, which then raises the exception that fits (a missing file, a folder in its
/// place, a permission denied) exactly as before.
/// </remarks>
internal static partial class ReadOnlyOpen
{
    // O_RDONLY | O_CLOEXEC, the same on x64 and Arm64.
    private const int Flags = 0x80000;

    // Set when the C library has no open to call; off Linux, FileLinks.Supported is already false.
    private static volatile bool s_unavailable;

    /// <summary>An open handle on the regular file at <paramref name="path"/> and what <c>fstat</c> said of it; null when it could not be opened this way.</summary>
    public static SafeFileHandle? TryOpen(string path, out FileStat stat)
    {
        stat = default;
        if (s_unavailable || !FileLinks.Supported) return null;
        int fd;
        try
        {
            fd = Open(path, Flags);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            s_unavailable = true;
            return null;
        }

        if (fd < 0) return null;
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (FileLinks.TryStat(handle, out stat) && stat.IsRegularFile) return handle;
        handle.Dispose();
        stat = default;
        return null;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
