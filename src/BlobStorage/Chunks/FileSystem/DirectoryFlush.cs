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

    private static readonly int OpenFlags = OpenFlagsForPlatform();

    /// <summary>Makes the entries of <paramref name="directory"/> durable; throws <see cref="IOException"/> with the errno when that fails.</summary>
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, OpenFlags);
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

    /// <summary>
    /// O_RDONLY | O_DIRECTORY | O_CLOEXEC. The values differ by platform and, on Linux, by
    /// architecture: ARM and POWER give O_DIRECTORY 040000, where 0x10000 would mean O_DIRECT.
    /// Where they are not known, O_RDONLY alone still opens the folder: the other two only add a
    /// check that it is one, and keep the descriptor out of a child process started meanwhile.
    /// </summary>
    private static int OpenFlagsForPlatform()
    {
        if (OperatingSystem.IsLinux())
        {
            var directory = RuntimeInformation.OSArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le
                ? 0x4000
                : 0x10000;
            return ORdOnly | directory | 0x80000;
        }

        if (OperatingSystem.IsMacOS() || OperatingSystem.IsMacCatalyst() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS()) return ORdOnly | 0x100000 | 0x1000000;
        if (OperatingSystem.IsFreeBSD()) return ORdOnly | 0x20000 | 0x100000;
        return ORdOnly;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
