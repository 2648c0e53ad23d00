namespace BlobStorage.Diagnostics;

/// <summary>
/// Named places in the commit protocol where the crash tests kill the process. Off unless the
/// environment variable <c>BLOBSTORAGE_CRASH_AT</c> is set to <c>name</c> or <c>name:N</c> (the Nth
/// time that place is reached), which only the crash-test host does; then reaching it ends the
/// process at once, as a power cut or a kill would, with no cleanup and no finally blocks.
/// </summary>
internal static class CrashPoints
{
    public const string ChunkTempWritten = "chunk-temp-written";
    public const string ChunkFlushed = "chunk-flushed";
    public const string ChunkRenamed = "chunk-renamed";
    public const string ChunkDirectoryFlushed = "chunk-directory-flushed";
    public const string MidTransaction = "mid-transaction";
    public const string Committed = "committed";

    private static readonly string? Target;
    private static readonly int TargetHit;
    private static int _hits;

    static CrashPoints()
    {
        var setting = Environment.GetEnvironmentVariable("BLOBSTORAGE_CRASH_AT");
        if (string.IsNullOrEmpty(setting)) return;
        var colon = setting.IndexOf(':', StringComparison.Ordinal);
        Target = colon < 0 ? setting : setting[..colon];
        TargetHit = colon < 0 ? 1 : int.Parse(setting.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>True when any crash point is armed in this process.</summary>
    public static bool Armed => Target is not null;

    public static void Reach(string name)
    {
        if (Target is null || !string.Equals(name, Target, StringComparison.Ordinal)) return;
        if (Interlocked.Increment(ref _hits) == TargetHit)
        {
            Console.Out.Flush();
            Environment.FailFast($"BlobStorage crash point '{name}' reached (hit {TargetHit}).");
        }
    }
}
