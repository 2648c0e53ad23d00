using System.Runtime.InteropServices;
using System.Text;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// The baseline's own directory flush, so that a rename into a folder survives a power cut: .NET
/// has no API for it, so on Unix the folder is opened with <c>open(O_RDONLY | O_DIRECTORY)</c> and
/// that descriptor fsync'ed. Windows has no such call (NTFS journals its metadata): nothing to do.
/// Written here rather than borrowed from the engine, so the baseline shares no code with it.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0;

    // O_DIRECTORY differs by platform: 0200000 on Linux x86 and x64, 040000 on Linux ARM, 0x100000 on macOS.
    private static readonly int OpenDirectory =
        OperatingSystem.IsMacOS() ? 0x100000
        : RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 ? 0x4000
        : 0x10000;

    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var path = Encoding.UTF8.GetBytes(directory + "\0");
        var fd = Open(path, ReadOnly | OpenDirectory);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not open directory '{directory}' to flush it (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).");
        }

        try
        {
            // A failed fsync fails the put; it is never retried, since the kernel may have dropped the dirty state.
            if (FSync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"Flushing directory '{directory}' failed (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FSync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
