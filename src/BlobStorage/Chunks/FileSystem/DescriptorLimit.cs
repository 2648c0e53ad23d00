using System.Runtime.InteropServices;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// How many chunk files a store keeps open for range reads (<see cref="OpenChunkCache"/>): an eighth of the process's
/// file descriptor limit, between 256 and 4,096. The runtime raises the soft limit to the hard one when it starts, so
/// on a common Linux system (a hard limit of 4,096 to over a million) a store keeps 512 to 4,096 files open, each about
/// 1 KB of memory: 2 to 16 GiB of 4 MiB chunks whose ranges cost one read of a block, and room left for the
/// application and for other stores in the process.
/// </summary>
internal static partial class DescriptorLimit
{
    /// <summary>The fewest files kept open, whatever the limit.</summary>
    public const int MinimumKeptOpen = 256;

    /// <summary>The most files kept open, however high the limit.</summary>
    public const int MaximumKeptOpen = 4096;

    // RLIMIT_NOFILE on Linux (x64 and Arm64 alike).
    private const int OpenFilesResource = 7;

    /// <summary>The number of chunk files a store keeps open in this process.</summary>
    public static int ChunkFilesKeptOpen { get; } = KeptOpenFor(CurrentLimit());

    /// <summary>The number kept open under a descriptor limit of <paramref name="limit"/> (null: unknown, or none).</summary>
    public static int KeptOpenFor(ulong? limit) =>
        limit is { } value ? (int)Math.Clamp(value / 8, MinimumKeptOpen, MaximumKeptOpen) : MinimumKeptOpen;

    /// <summary>The process's soft limit on open files, or null where it cannot be read (not Linux, or the call failed).</summary>
    private static ulong? CurrentLimit()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return GetLimit(OpenFilesResource, out var limit) == 0 ? limit.Current : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetLimit(int resource, out ResourceLimit limit);

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
