using System.Runtime.InteropServices;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Flushes a directory's entries to disk, so that a file created or renamed in it survives a power
/// cut. .NET has no API for this: on Unix the directory is opened read-only and fsync'ed; Windows
/// has no equivalent call (NTFS journals its metadata), so there it does nothing.
/// </summary>
internal static partial class DirectoryFlush
{
    private const int ORdOnly = 0;

    private static readonly int ODirectory = OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() ? 0x100000 : 0x10000;

    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, ORdOnly | ODirectory);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not open directory '{directory}' to flush it (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                // Never retried: after a failed fsync the kernel may have dropped the dirty state, so a
                // second call could report a success that is not one.
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"Flushing directory '{directory}' to disk failed (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
