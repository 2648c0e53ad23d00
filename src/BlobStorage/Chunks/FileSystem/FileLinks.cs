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

    // S_IFMT and S_IFREG, the same on every Linux architecture.
    private const uint FileTypeMask = 0xF000;
    private const uint RegularFile = 0x8000;

    // st_size, on x64 and Arm64 alike.
    private const int SizeOffset = 48;

    private static readonly int NlinkOffset = OffsetForPlatform();

    // st_mode follows st_nlink on x64 and precedes it on Arm64.
    private static readonly int ModeOffset = NlinkOffset == 16 ? 24 : 16;
    private static volatile bool s_unavailable = NlinkOffset < 0;

    /// <summary>Whether link counts can be read here; when false, <see cref="IsLinked"/> always says false.</summary>
    public static bool Supported => !s_unavailable;

    /// <summary>True when the file <paramref name="handle"/> refers to still has a name; false when it has none or this cannot be told.</summary>
    public static bool IsLinked(SafeFileHandle handle) => TryStat(handle, out var stat) && stat.Links > 0;

    /// <summary>
    /// The link count, length and type of the open file <paramref name="handle"/>, from one <c>fstat</c>; false when the
    /// call failed or this platform's <c>struct stat</c> is not known here.
    /// </summary>
    public static bool TryStat(SafeFileHandle handle, out FileStat stat)
    {
        stat = default;
        if (s_unavailable || handle.IsClosed) return false;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            Span<byte> buffer = stackalloc byte[StatSize];
            int result;
            unsafe
            {
                fixed (byte* pointer = buffer)
                {
                    result = FStat((int)handle.DangerousGetHandle(), pointer);
                }
            }

            if (result != 0) return false;
            var links = NlinkOffset == 16 ? BitConverter.ToUInt64(buffer[16..]) : BitConverter.ToUInt32(buffer[NlinkOffset..]);
            var mode = BitConverter.ToUInt32(buffer[ModeOffset..]);
            stat = new FileStat(links, BitConverter.ToInt64(buffer[SizeOffset..]), (mode & FileTypeMask) == RegularFile);
            return true;
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

/// <summary>What <see cref="FileLinks.TryStat"/> reads of an open file: its link count, its length in bytes, and whether it is a regular file.</summary>
internal readonly record struct FileStat(ulong Links, long Length, bool IsRegularFile);
