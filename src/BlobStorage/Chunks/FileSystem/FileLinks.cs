using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Whether an open file still has a name: its link count, from <c>fstat</c>. A chunk file deleted, or renamed over by
/// another file of its name, keeps its bytes for whoever holds it open, but has no link left; a handle kept open across
/// reads must then be dropped and the path opened again. .NET exposes no link count, so this reads it from the
/// <c>struct stat</c> of Linux on x64 and Arm64, whose layouts are fixed by the kernel's ABI; elsewhere it cannot tell,
/// and callers then open the file for every read, as they did before.
/// </summary>
internal static partial class FileLinks
{
    // struct stat: 144 bytes on x64, 128 on Arm64; room for either.
    private const int StatSize = 256;

    private static readonly int NlinkOffset = OffsetForPlatform();
    private static volatile bool s_unavailable = NlinkOffset < 0;

    /// <summary>Whether link counts can be read here; when false, <see cref="IsLinked"/> always says false.</summary>
    public static bool Supported => !s_unavailable;

    /// <summary>True when the file <paramref name="handle"/> refers to still has a name; false when it has none or this cannot be told.</summary>
    public static bool IsLinked(SafeFileHandle handle)
    {
        if (s_unavailable || handle.IsClosed) return false;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            Span<byte> stat = stackalloc byte[StatSize];
            int result;
            unsafe
            {
                fixed (byte* buffer = stat)
                {
                    result = FStat((int)handle.DangerousGetHandle(), buffer);
                }
            }

            if (result != 0) return false;
            return NlinkOffset == 16
                ? BitConverter.ToUInt64(stat[16..]) > 0
                : BitConverter.ToUInt32(stat[NlinkOffset..]) > 0;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // A C library without an exported fstat (glibc before 2.33): handles are then never kept.
            s_unavailable = true;
            return false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private static int OffsetForPlatform()
    {
        if (!OperatingSystem.IsLinux()) return -1;
        return RuntimeInformation.OSArchitecture switch
        {
            // st_dev, st_ino, then st_nlink as an unsigned long.
            Architecture.X64 => 16,

            // st_dev, st_ino, st_mode, then st_nlink as an unsigned int.
            Architecture.Arm64 => 20,
            _ => -1,
        };
    }

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static unsafe partial int FStat(int fd, byte* stat);
}
