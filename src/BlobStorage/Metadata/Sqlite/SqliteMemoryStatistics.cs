using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// Turns off SQLite's memory statistics for the process, when the first store opens and only if SQLite has not been
/// initialized yet (SQLite refuses the setting afterwards, and then nothing changes).
/// </summary>
/// <remarks>
/// <para>
/// With statistics on, every allocation and free SQLite makes takes one mutex shared by every connection of the
/// process, to count the bytes; reading a small blob allocates several times, so readers on different threads queue on
/// it. SQLite's own list of recommended compile-time options turns them off (<c>SQLITE_DEFAULT_MEMSTATUS=0</c>); the
/// <c>e_sqlite3</c> library SQLitePCLRaw ships leaves them on. On this 2-core machine, <c>compare --sizes 4k</c>, first
/// reads of blobs just put with 8 tasks, three alternations, ratio to the file store: 0.67x, 0.61x and 0.53x with them,
/// 0.88x, 0.85x and 0.84x without.
/// </para>
/// <para>
/// Without statistics, <c>sqlite3_memory_used</c>, <c>sqlite3_memory_highwater</c>, <c>sqlite3_status64</c> and the
/// soft and hard heap limits do nothing, in the whole process. An application that needs them sets the AppContext
/// switch <see cref="KeepSwitch"/> (or initializes SQLite itself before the first store opens).
/// </para>
/// </remarks>
internal static class SqliteMemoryStatistics
{
    /// <summary>The AppContext switch that keeps SQLite's memory statistics on.</summary>
    public const string KeepSwitch = "BlobStorage.Sqlite.KeepMemoryStatistics";

    private const int SqliteConfigMemStatus = 9;

    private static readonly Lazy<bool> s_turnedOff = new(TurnOff);

    /// <summary>Turns them off once, before the first connection of the process initializes SQLite.</summary>
    public static void EnsureApplied() => _ = s_turnedOff.Value;

    private static bool TurnOff()
    {
        if (AppContext.TryGetSwitch(KeepSwitch, out var keep) && keep) return false;

        // Microsoft.Data.Sqlite sets SQLitePCLRaw's provider as its connection type initializes.
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(SqliteConnection).TypeHandle);
        try
        {
            return raw.sqlite3_config(SqliteConfigMemStatus, 0) == raw.SQLITE_OK;
        }
#pragma warning disable CA1031 // A provider without the call leaves SQLite as it is, which always works.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}
