using System.Runtime.InteropServices;
using SQLitePCL;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The few SQLite functions a row is read with, called straight into the SQLite library that
/// SQLitePCLRaw loaded: without its provider's interface call, its SafeHandle reference counting and,
/// for the column reads, the GC transition. A listing makes a handful of these calls per row, and
/// through SQLitePCLRaw each one cost more than the column's work in SQLite.
/// </summary>
/// <remarks>
/// Used only when it is certain to be the same library: SQLitePCLRaw's provider is <c>e_sqlite3</c> and
/// <c>sqlite3_libversion</c> found here returns the very string SQLitePCLRaw's does. Otherwise (another
/// provider, a system SQLite, a platform where the library cannot be found by name) every call goes
/// through SQLitePCLRaw as before. The column reads skip the GC transition: they neither block nor call
/// back (the statement's connection is used by one thread at a time, so its mutex is never held by
/// another), and they return at once.
/// </remarks>
internal static unsafe class SqliteNative
{
    private static readonly delegate* unmanaged<nint, int> s_step;
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, int, byte*> s_columnBlob;
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, int, int> s_columnBytes;
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, int, long> s_columnInt64;
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, int, int> s_columnType;

#pragma warning disable CA1810 // The fields are set together, and only after the library is proven to be SQLitePCLRaw's.
    static SqliteNative()
#pragma warning restore CA1810
    {
        if (!TryLoad(out var library)) return;
        if (!NativeLibrary.TryGetExport(library, "sqlite3_libversion", out var libversion)) return;
        fixed (byte* theirs = raw.sqlite3_libversion())
        {
            // The address of the library's own version string: equal only when both name the same loaded library.
            if (((delegate* unmanaged<byte*>)libversion)() != theirs) return;
        }

        if (NativeLibrary.TryGetExport(library, "sqlite3_step", out var step)
            && NativeLibrary.TryGetExport(library, "sqlite3_column_blob", out var blob)
            && NativeLibrary.TryGetExport(library, "sqlite3_column_bytes", out var bytes)
            && NativeLibrary.TryGetExport(library, "sqlite3_column_int64", out var int64)
            && NativeLibrary.TryGetExport(library, "sqlite3_column_type", out var type))
        {
            s_step = (delegate* unmanaged<nint, int>)step;
            s_columnBlob = (delegate* unmanaged[SuppressGCTransition]<nint, int, byte*>)blob;
            s_columnBytes = (delegate* unmanaged[SuppressGCTransition]<nint, int, int>)bytes;
            s_columnInt64 = (delegate* unmanaged[SuppressGCTransition]<nint, int, long>)int64;
            s_columnType = (delegate* unmanaged[SuppressGCTransition]<nint, int, int>)type;
            Library = library;
            Available = true;
        }
    }

    /// <summary>True when the calls below go straight to SQLitePCLRaw's library; when false, none may be called.</summary>
    public static bool Available { get; }

    /// <summary>SQLitePCLRaw's own library, for other exports to be found in; zero when <see cref="Available"/> is false.</summary>
    public static nint Library { get; }

    public static int Step(nint statement) => s_step(statement);

    public static ReadOnlySpan<byte> ColumnBlob(nint statement, int ordinal)
    {
        // The pointer first: it may convert the value, and the length is the converted one's.
        var pointer = s_columnBlob(statement, ordinal);
        return pointer is null ? default : new ReadOnlySpan<byte>(pointer, s_columnBytes(statement, ordinal));
    }

    public static long ColumnInt64(nint statement, int ordinal) => s_columnInt64(statement, ordinal);

    public static int ColumnType(nint statement, int ordinal) => s_columnType(statement, ordinal);

    private static bool TryLoad(out nint library)
    {
        library = 0;
        try
        {
            // The provider's own assembly resolves the name as its DllImport does, so the loader hands back the library it already holds.
            return raw.GetNativeLibraryName() == "e_sqlite3"
                && NativeLibrary.TryLoad("e_sqlite3", typeof(SQLite3Provider_e_sqlite3).Assembly, null, out library);
        }
#pragma warning disable CA1031 // Whatever stops the check leaves SQLitePCLRaw's path in use, which always works.
        catch (Exception)
#pragma warning restore CA1031
        {
            // No provider set yet (SQLitePCLRaw throws a bare Exception): Microsoft.Data.Sqlite sets one before its first connection opens.
            return false;
        }
    }
}
