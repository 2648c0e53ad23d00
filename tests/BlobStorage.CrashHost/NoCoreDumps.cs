using System.Runtime.InteropServices;

namespace BlobStorage.CrashHost;

/// <summary>
/// A crash point ends the process with <c>abort()</c>. Where the core size limit allows it, the
/// kernel would then write a core file of hundreds of megabytes per kill; the host turns that off
/// for itself so that a machine with <c>ulimit -c unlimited</c> runs the suite as fast as any other.
/// </summary>
internal static partial class NoCoreDumps
{
    private const int RlimitCore = 4; // RLIMIT_CORE on Linux and macOS

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var none = new RLimit { Current = 0, Maximum = 0 };
        _ = SetRLimit(RlimitCore, ref none); // best effort: without it the run is only slower
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "setrlimit")]
    private static partial int SetRLimit(int resource, ref RLimit limit);
}
