using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// A SQLite VFS over <c>unix-excl</c> that makes one system call where SQLite makes one a page. It reads ahead where
/// SQLite reads a file page after page: the pages of a value too large for its row (64 KiB is sixteen pages) lie one
/// after the other in the write-ahead log or the database file, so the third page read in a row, each at the end of
/// the one before, starts a read of 64 KiB, and the pages after it are copied from there. And it writes a
/// transaction's frames to the log in one call: SQLite writes each frame as two (its header, then its page), twelve
/// for a 4 KiB put; they are kept back and written together when the commit frame's page is. A checkpoint's pages
/// reach the database the same way, a run of pages that follow one another in one call.
/// </summary>
/// <remarks>
/// <para>
/// On this 2-core machine sixteen 4 KiB <c>pread</c>s of a cached file took 24.7 us against 4.4 us for one of 64 KiB
/// (a C loop, 20,000 rounds, three runs). Everything else passes through to <c>unix-excl</c>, opened with that VFS
/// itself, so the file keeps its exclusive lock and its WAL index in memory.
/// </para>
/// <para>
/// Frames kept back are written before the call that writes the commit frame's page returns, so a commit is in the
/// file (and, where SQLite flushes commits, on the disk) before SQLite publishes it to readers, as without the VFS;
/// a write that fails then fails that call, and the commit with it. Any other call on the log (a read, a flush, its
/// size, a truncation, a file control, closing it) and any write that does not follow on from the frames kept back
/// writes them first. A process that dies with frames kept back loses only an uncommitted transaction, which SQLite
/// would ignore in the file anyway.
/// </para>
/// <para>
/// A read-ahead buffer never serves bytes that may have changed since it was filled: every write and truncation of any file
/// opened through this VFS counts one version, and marks itself in progress while it runs. A buffer is filled only
/// when no write is in progress and the version stays the same across the fill, and is used only while the version
/// is still the one it was filled at and no write is in progress. SQLite never reads a page of the log or of the
/// database while it is being written for that read's snapshot, so the check only has to keep a buffer from
/// outliving a write, which it does for every write of the process. A buffer belongs to one open file of one
/// connection, which SQLite uses from one thread at a time.
/// </para>
/// <para>
/// Why a checkpoint's pages go in runs: the kernel keeps a file's cached bytes in folios as large as the writes that
/// put them there, and copying out of many small folios costs more than out of a few large ones. A 64 KiB
/// <c>pread</c> from a file written 4 KiB at a time took 7.8 us against 3.1 us from one written 1 MiB at a time
/// (a scratch program, Linux 6.18, ext4); SQLite copies a checkpoint to the database one page per call, so a blob's
/// pages, once checkpointed, were read at the slower rate. Between <c>SQLITE_FCNTL_CKPT_START</c> and
/// <c>SQLITE_FCNTL_CKPT_DONE</c> pages that follow one another are kept back and written as one run (ending on a
/// 64 KiB boundary when it can, at most 124 KiB); any other call on the file writes them first. No connection reads
/// a page a checkpoint copies before the checkpoint counts it as copied, which it does after <c>CKPT_DONE</c>.
/// Runs are kept back only on Linux and, when the checkpoint grows the database (SQLite's size hint), once its new
/// blocks are reserved, so that a full disk fails a page's own write as it would without runs. SQLite ignores the
/// result of CKPT_DONE, so a run that still fails to reach the file there is kept: it is
/// written before anything else the file is asked, and until it is, every read of that database through this VFS
/// (any connection) fails with <c>SQLITE_IOERR</c> instead of reading the page's older content, and its connections
/// read none through a memory map. SQLite counts the checkpoint as done only where its pages could be read from the
/// database; a checkpoint that also syncs and truncates the database goes through this file again, and fails there.
/// </para>
/// <para>
/// Used only where SQLitePCLRaw's library is the one <see cref="SqliteNative"/> calls (<c>e_sqlite3</c>) and has a
/// <c>unix-excl</c> VFS of a known layout; anywhere else the database opens through <c>unix-excl</c> as before.
/// </para>
/// </remarks>
internal static unsafe partial class BufferedVfs
{
    /// <summary>The VFS's registered name.</summary>
    public const string VfsName = "blobstorage-buffered";

    // How much one read ahead takes: a 64 KiB value's last fifteen pages in the log (15 x 4,120 bytes) fit.
    private const int ReadAheadBytes = 64 * 1024;

    // A read is sequential when it starts at most this far past where the last one ended: the 24-byte frame header
    // between two pages of the log.
    private const int SequentialGap = 64;

    // Reads in a row, each sequential to the one before, before one reads ahead: a 4 KiB value is its row's page and
    // one page of overflow, which a read ahead would only make dearer; a 64 KiB value is sixteen.
    private const int SequentialRun = 2;

    private const int SqliteOk = 0;
    private const int SqliteIoErr = 10;
    private const int SqliteIoErrRead = SqliteIoErr | (1 << 8);
    private const int SqliteIoErrWrite = SqliteIoErr | (3 << 8);

    // The file controls SQLite sends the database around the pages of a checkpoint, and the size it is about to grow to.
    private const int FileControlSizeHint = 5;
    private const int FileControlCheckpointDone = 37;
    private const int FileControlCheckpointStart = 39;

    // A checkpoint's run of pages is written when it ends on a multiple of this (and is at least this long), so the
    // runs after it start there, each a folio of this size.
    private const int CheckpointRunAlignment = 64 * 1024;
    private const int SqliteOpenMainDb = 0x00000100;
    private const int SqliteOpenWal = 0x00080000;

    // What an open file is: read ahead (the database) or read ahead and written in whole transactions (its log).
    private const int KindOther = 0;
    private const int KindDatabase = 1;
    private const int KindLog = 2;

    // The most bytes of the log kept back before they are written: unix-excl writes at most 128 KiB - 1 bytes in one
    // call (it masks the length with 0x1ffff, and a longer write comes back short, as a full disk); 31 frames of 4 KiB.
    private const int PendingCapacity = 0x1ffff;

    // A write of this many bytes to the log is a frame's header; a commit frame's says the database's size in pages.
    private const int FrameHeaderBytes = 24;

    private static readonly SqliteVfs* s_base;
    private static readonly SqliteVfs* s_vfs;
    private static readonly IoMethods* s_methods;

    // Writes of files opened through this VFS: under way now, and ended (the version).
    private static long s_writesInProgress;
    private static long s_version;

    // Databases with checkpoint pages that failed to reach the file after SQLite counted them as copied, by the hash of
    // their name; how many, read without the lock while none.
    private static readonly Lock s_owedGate = new();
    private static readonly Dictionary<ulong, int> s_owed = [];
    private static int s_owedCount;

    // Reads passed to unix-excl and reads copied from a buffer; for tests.
    private static long s_fileReads;
    private static long s_bufferedReads;
    [ThreadStatic]
    private static long t_fileWrites;
    [ThreadStatic]
    private static int t_failCheckpointEnds;
    [ThreadStatic]
    private static int t_failReservations;

    // unix-excl's file: its methods, its VFS and its inode, then the descriptor (sqlite3's unixFile, unchanged since 3.7).
    private const int UnixFileDescriptorOffset = 24;

    // fallocate's mode that reserves blocks past the end of a file without changing its size.
    private const int KeepSize = 1;

#pragma warning disable CA1810 // The fields are set together, only once the VFS is registered.
    static BufferedVfs()
#pragma warning restore CA1810
    {
        if (OperatingSystem.IsWindows()) return;

        // Microsoft.Data.Sqlite sets SQLitePCLRaw's provider as its connection type initializes; SqliteNative finds the
        // provider's library only once one is set.
        RuntimeHelpers.RunClassConstructor(typeof(SqliteConnection).TypeHandle);
        if (!SqliteNative.Available) return;
        if (!NativeLibrary.TryGetExport(SqliteNative.Library, "sqlite3_vfs_find", out var findExport)
            || !NativeLibrary.TryGetExport(SqliteNative.Library, "sqlite3_vfs_register", out var registerExport))
        {
            return;
        }

        var find = (delegate* unmanaged<byte*, nint>)findExport;
        var register = (delegate* unmanaged<nint, int, int>)registerExport;
        fixed (byte* name = "unix-excl\0"u8)
        {
            s_base = (SqliteVfs*)find(name);
        }

        // Version 3 is the layout below; the file methods are read from each file unix-excl opens.
        if (s_base is null || s_base->Version < 3) return;
        fixed (byte* name = "blobstorage-buffered\0"u8)
        {
            if (find(name) != 0) return;
        }

        var vfs = (SqliteVfs*)NativeMemory.AllocZeroed((nuint)sizeof(SqliteVfs));
        *vfs = *s_base;
        vfs->Next = null;
        vfs->FileSize = s_base->FileSize + sizeof(ShimFile);
        var vfsName = "blobstorage-buffered\0"u8;
        var nameCopy = (byte*)NativeMemory.Alloc((nuint)vfsName.Length);
        vfsName.CopyTo(new Span<byte>(nameCopy, vfsName.Length));
        vfs->Name = nameCopy;
        vfs->Open = &Open;
        vfs->Delete = &Delete;

        var methods = (IoMethods*)NativeMemory.AllocZeroed((nuint)sizeof(IoMethods));
        methods->Version = 3;
        methods->Close = &Close;
        methods->Read = &Read;
        methods->Write = &Write;
        methods->Truncate = &Truncate;
        methods->Sync = &Sync;
        methods->FileSize = &FileSizeOf;
        methods->Lock = &Lock;
        methods->Unlock = &Unlock;
        methods->CheckReservedLock = &CheckReservedLock;
        methods->FileControl = &FileControl;
        methods->SectorSize = &SectorSize;
        methods->DeviceCharacteristics = &DeviceCharacteristics;
        methods->ShmMap = &ShmMap;
        methods->ShmLock = &ShmLock;
        methods->ShmBarrier = &ShmBarrier;
        methods->ShmUnmap = &ShmUnmap;
        methods->Fetch = &Fetch;
        methods->Unfetch = &Unfetch;
        s_methods = methods;

        if (register((nint)vfs, 0) != SqliteOk) return;
        s_vfs = vfs;
    }

    /// <summary>The VFS new connections open through: this one where it is registered, else <c>unix-excl</c>.</summary>
    public static string Name => s_vfs is not null ? VfsName : "unix-excl";

    /// <summary>Reads passed to the file; for tests.</summary>
    internal static long FileReads => Interlocked.Read(ref s_fileReads);

    /// <summary>Writes passed to the file by the calling thread; for tests.</summary>
    internal static long FileWritesOnThisThread => t_fileWrites;

    /// <summary>Reads copied from a read-ahead buffer; for tests.</summary>
    internal static long BufferedReads => Interlocked.Read(ref s_bufferedReads);

    /// <summary>
    /// For tests: how many of the next checkpoints on the calling thread find their last run of pages failing to
    /// reach the database at <c>CKPT_DONE</c> (as a full disk would), and the runs kept until a later call writes them.
    /// </summary>
    internal static int FailCheckpointEndsOnThisThread
    {
        get => t_failCheckpointEnds;
        set => t_failCheckpointEnds = value;
    }

    /// <summary>
    /// For tests: how many of the next checkpoints on the calling thread that grow the database find its new blocks
    /// impossible to reserve (as on a full disk), and write their pages one a call.
    /// </summary>
    internal static int FailReservationsOnThisThread
    {
        get => t_failReservations;
        set => t_failReservations = value;
    }

    /// <summary>Whether a checkpoint's pages go to the database in runs; false only to measure the difference (benchmarks).</summary>
    internal static bool CheckpointRuns { get; set; } = true;

    private static SqliteFile* Real(SqliteFile* file) => ((ShimFile*)file)->Real;

    private static IoMethods* RealMethods(SqliteFile* file) => ((ShimFile*)file)->Real->Methods;

    [UnmanagedCallersOnly]
    private static int Open(SqliteVfs* vfs, byte* name, SqliteFile* file, int flags, int* outFlags)
    {
        var shim = (ShimFile*)file;
        *shim = default;
        var real = (SqliteFile*)((byte*)file + sizeof(ShimFile));
        var rc = s_base->Open(s_base, name, real, flags, outFlags);
        if (real->Methods is null) return rc;
        shim->Real = real;
        shim->Kind = (flags & SqliteOpenWal) != 0 ? KindLog : (flags & SqliteOpenMainDb) != 0 ? KindDatabase : KindOther;
        shim->Descriptor = -1;
        if (shim->Kind == KindDatabase && name is not null)
        {
            shim->NameHash = HashOf(name);
            shim->Descriptor = DescriptorOf(real, name);
        }
        shim->LastEnd = -1;
        shim->SizeVersion = -1;
        shim->Methods = s_methods;
        return rc;
    }

    [UnmanagedCallersOnly]
    private static int Delete(SqliteVfs* vfs, byte* name, int syncDirectory)
    {
        BeginWrite();
        try
        {
            return s_base->Delete(s_base, name, syncDirectory);
        }
        finally
        {
            EndWrite();
        }
    }

    // Every change of a file through this VFS runs between these two: no read-ahead buffer is filled or used across it.
    private static void BeginWrite() => Interlocked.Increment(ref s_writesInProgress);

    private static void EndWrite()
    {
        Interlocked.Increment(ref s_version);
        Interlocked.Decrement(ref s_writesInProgress);
    }

    [UnmanagedCallersOnly]
    private static int Close(SqliteFile* file)
    {
        var shim = (ShimFile*)file;
        var flushed = Flush(shim);

        // Pages still owed are dropped with the file: SQLite could not have counted a checkpoint that synced the
        // database through it, so its log keeps them, and a connection opened later recovers them from there.
        shim->PendingLength = 0;
        if (shim->Owed != 0) Settle(shim);
        var rc = RealMethods(file)->Close(Real(file));
        if (shim->Buffer is not null)
        {
            NativeMemory.Free(shim->Buffer);
            shim->Buffer = null;
        }

        if (shim->Pending is not null)
        {
            NativeMemory.Free(shim->Pending);
            shim->Pending = null;
        }

        return flushed != SqliteOk ? flushed : rc;
    }

    [UnmanagedCallersOnly]
    private static int Read(SqliteFile* file, byte* destination, int amount, long offset)
    {
        var shim = (ShimFile*)file;
        if (shim->PendingLength > 0)
        {
            var flushed = Flush(shim);
            if (flushed != SqliteOk) return flushed;
        }

        if (shim->Kind == KindDatabase && IsOwed(shim)) return SqliteIoErrRead;
        if (shim->Kind == KindOther || amount <= 0 || amount > ReadAheadBytes / 2) return ReadFile(shim, destination, amount, offset);

        if (shim->BufferLength > 0
            && offset >= shim->BufferStart
            && offset + amount <= shim->BufferStart + shim->BufferLength
            && Volatile.Read(ref s_writesInProgress) == 0
            && Volatile.Read(ref s_version) == shim->BufferVersion)
        {
            new ReadOnlySpan<byte>(shim->Buffer + (offset - shim->BufferStart), amount).CopyTo(new Span<byte>(destination, amount));
            shim->LastEnd = offset + amount;
            Interlocked.Increment(ref s_bufferedReads);
            return SqliteOk;
        }

        var sequential = shim->LastEnd >= 0 && offset >= shim->LastEnd && offset - shim->LastEnd <= SequentialGap;
        shim->Run = sequential ? shim->Run + 1 : 0;
        shim->LastEnd = offset + amount;
        shim->BufferLength = 0;
        if (shim->Run < SequentialRun || Volatile.Read(ref s_writesInProgress) != 0) return ReadFile(shim, destination, amount, offset);

        // The file's size, taken again only after a write: a size that is out of date anyway (grown by a size hint)
        // is smaller, which only shortens the read ahead, and a read past the end fails and goes to the file as below.
        var version = Volatile.Read(ref s_version);
        long size;
        if (shim->SizeVersion == version)
        {
            size = shim->Size;
        }
        else
        {
            if (RealMethods(file)->FileSize(Real(file), &size) != SqliteOk) return ReadFile(shim, destination, amount, offset);
            shim->Size = size;
            shim->SizeVersion = version;
        }

        var length = (int)Math.Min(ReadAheadBytes, size - offset);
        if (length < amount) return ReadFile(shim, destination, amount, offset);
        if (shim->Buffer is null) shim->Buffer = (byte*)NativeMemory.Alloc(ReadAheadBytes);
        var rc = ReadFile(shim, shim->Buffer, length, offset);
        if (rc != SqliteOk || Volatile.Read(ref s_writesInProgress) != 0 || Volatile.Read(ref s_version) != version)
        {
            // Failed, or a write ran meanwhile: this read goes to the file as if nothing had been read ahead.
            return ReadFile(shim, destination, amount, offset);
        }

        shim->BufferStart = offset;
        shim->BufferLength = length;
        shim->BufferVersion = version;
        new ReadOnlySpan<byte>(shim->Buffer, amount).CopyTo(new Span<byte>(destination, amount));
        return SqliteOk;
    }

    private static int ReadFile(ShimFile* shim, byte* destination, int amount, long offset)
    {
        Interlocked.Increment(ref s_fileReads);
        return shim->Real->Methods->Read(shim->Real, destination, amount, offset);
    }

    [UnmanagedCallersOnly]
    private static int Write(SqliteFile* file, byte* source, int amount, long offset)
    {
        var shim = (ShimFile*)file;
        shim->BufferLength = 0;
        if (shim->Kind == KindDatabase && (shim->InCheckpoint != 0 || shim->PendingLength > 0)) return KeepCheckpointPage(shim, source, amount, offset);
        if (shim->Kind != KindLog) return WriteFile(shim, source, amount, offset);

        // The log: a transaction's frames, each a header and a page written one after the other, are kept back
        // and written in one call when the commit frame's page is, before SQLite goes on to publish the commit.
        int rc;
        if (shim->PendingLength > 0 && (offset != shim->PendingStart + shim->PendingLength || shim->PendingLength + amount > PendingCapacity))
        {
            rc = Flush(shim);
            if (rc != SqliteOk) return rc;
        }

        if (amount > PendingCapacity) return WriteFile(shim, source, amount, offset);
        Keep(shim, source, amount, offset);
        if (amount == FrameHeaderBytes)
        {
            // Bytes 4 to 7 of a frame's header: the database's size after a commit, zero in any other frame.
            shim->Committing = BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(source + 4, 4)) != 0 ? 1 : 0;
            return SqliteOk;
        }

        // Until the next transaction's first frame, every write of the log goes to the file before it returns.
        return shim->Committing != 0 ? Flush(shim) : SqliteOk;
    }

    /// <summary>A page a checkpoint copies to the database: added to the run kept back, or written with it.</summary>
    private static int KeepCheckpointPage(ShimFile* shim, byte* source, int amount, long offset)
    {
        if (shim->PendingLength > 0 && (shim->Owed != 0 || offset != shim->PendingStart + shim->PendingLength || shim->PendingLength + amount > PendingCapacity))
        {
            // SQLite hears of a failure here and counts none of this checkpoint's pages as copied (a run owed from an
            // earlier one stays kept).
            var rc = FlushDatabase(shim, keepOnFailure: false);
            if (rc != SqliteOk) return rc;
        }

        if (shim->InCheckpoint == 0 || amount > PendingCapacity) return WriteFile(shim, source, amount, offset);
        Keep(shim, source, amount, offset);
        var end = shim->PendingStart + shim->PendingLength;
        return shim->PendingLength >= CheckpointRunAlignment && end % CheckpointRunAlignment == 0 ? FlushDatabase(shim, keepOnFailure: false) : SqliteOk;
    }

    private static void Keep(ShimFile* shim, byte* source, int amount, long offset)
    {
        if (shim->Pending is null) shim->Pending = (byte*)NativeMemory.Alloc(PendingCapacity);
        if (shim->PendingLength == 0) shim->PendingStart = offset;
        new ReadOnlySpan<byte>(source, amount).CopyTo(new Span<byte>(shim->Pending + shim->PendingLength, PendingCapacity - shim->PendingLength));
        shim->PendingLength += amount;
    }

    /// <summary>
    /// Writes a checkpoint's run kept back. A run SQLite may already count as copied (<paramref name="keepOnFailure"/>,
    /// or one already owed) stays kept when the write fails, and the database is owed until a later call writes it.
    /// </summary>
    private static int FlushDatabase(ShimFile* shim, bool keepOnFailure, bool fail = false)
    {
        var rc = fail ? SqliteIoErrWrite : WriteFile(shim, shim->Pending, shim->PendingLength, shim->PendingStart);
        if (rc == SqliteOk)
        {
            shim->PendingLength = 0;
            if (shim->Owed != 0) Settle(shim);
            return SqliteOk;
        }

        if (shim->Owed == 0 && keepOnFailure)
        {
            shim->Owed = 1;
            lock (s_owedGate)
            {
                s_owed[shim->NameHash] = s_owed.GetValueOrDefault(shim->NameHash) + 1;
                s_owedCount++;
            }
        }
        else if (shim->Owed == 0)
        {
            shim->PendingLength = 0;
        }

        return rc;
    }

    /// <summary>The file owes the database nothing any more.</summary>
    private static void Settle(ShimFile* shim)
    {
        shim->Owed = 0;
        lock (s_owedGate)
        {
            if (s_owed.TryGetValue(shim->NameHash, out var count) && count > 1) s_owed[shim->NameHash] = count - 1;
            else s_owed.Remove(shim->NameHash);
            s_owedCount--;
        }
    }

    /// <summary>Whether a checkpoint's pages of this database, counted as copied, are not in its file yet.</summary>
    private static bool IsOwed(ShimFile* shim)
    {
        if (Volatile.Read(ref s_owedCount) == 0) return false;
        lock (s_owedGate) return s_owed.ContainsKey(shim->NameHash);
    }

    /// <summary>
    /// unix-excl's descriptor of the database, to reserve a checkpoint's blocks before its runs are kept back; -1 where
    /// that cannot be done (not Linux, or the descriptor found is not the file's), and a checkpoint then writes page by
    /// page. The descriptor is SQLite's own: closing another one on the file would drop the process's locks on it.
    /// </summary>
    private static int DescriptorOf(SqliteFile* real, byte* name)
    {
        if (!OperatingSystem.IsLinux()) return -1;
        try
        {
            var descriptor = *(int*)((byte*)real + UnixFileDescriptorOffset);
            if (descriptor < 0) return -1;
            var path = Marshal.PtrToStringUTF8((nint)name);
            var target = new FileInfo("/proc/self/fd/" + descriptor.ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget;
            return path is not null && string.Equals(target, path, StringComparison.Ordinal) ? descriptor : -1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Reserves the blocks a checkpoint grows the database into (SQLite says the size first), so that a run kept back
    /// cannot fail for want of space once SQLite counts its pages as copied; false when they cannot be reserved.
    /// </summary>
    private static bool Reserve(ShimFile* shim, long size)
    {
        if (shim->Descriptor < 0) return false;
        if (t_failReservations > 0)
        {
            t_failReservations--;
            return false;
        }

        long current;
        if (shim->Real->Methods->FileSize(shim->Real, &current) != SqliteOk) return false;
        return size <= current || Fallocate(shim->Descriptor, KeepSize, current, size - current) == 0;
    }

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(int descriptor, int mode, long offset, long length);

    // FNV-1a of the file's name, as SQLite passed it (the database's full path).
    private static ulong HashOf(byte* name)
    {
        var hash = 14695981039346656037UL;
        for (var p = name; *p != 0; p++) hash = (hash ^ *p) * 1099511628211UL;
        return hash;
    }

    private static int Flush(ShimFile* shim)
    {
        if (shim->PendingLength == 0) return SqliteOk;
        if (shim->Kind == KindDatabase) return FlushDatabase(shim, keepOnFailure: true);
        var length = shim->PendingLength;
        shim->PendingLength = 0;
        return WriteFile(shim, shim->Pending, length, shim->PendingStart);
    }

    private static int WriteFile(ShimFile* shim, byte* source, int amount, long offset)
    {
        BeginWrite();
        try
        {
            t_fileWrites++;
            return shim->Real->Methods->Write(shim->Real, source, amount, offset);
        }
        finally
        {
            EndWrite();
        }
    }

    [UnmanagedCallersOnly]
    private static int Truncate(SqliteFile* file, long size)
    {
        ((ShimFile*)file)->BufferLength = 0;
        var flushed = Flush((ShimFile*)file);
        if (flushed != SqliteOk) return flushed;
        BeginWrite();
        try
        {
            return RealMethods(file)->Truncate(Real(file), size);
        }
        finally
        {
            EndWrite();
        }
    }

    [UnmanagedCallersOnly]
    private static int Sync(SqliteFile* file, int flags)
    {
        var flushed = Flush((ShimFile*)file);
        return flushed != SqliteOk ? flushed : RealMethods(file)->Sync(Real(file), flags);
    }

    [UnmanagedCallersOnly]
    private static int FileSizeOf(SqliteFile* file, long* size)
    {
        var flushed = Flush((ShimFile*)file);
        return flushed != SqliteOk ? flushed : RealMethods(file)->FileSize(Real(file), size);
    }

    [UnmanagedCallersOnly]
    private static int Lock(SqliteFile* file, int level) => RealMethods(file)->Lock(Real(file), level);

    [UnmanagedCallersOnly]
    private static int Unlock(SqliteFile* file, int level) => RealMethods(file)->Unlock(Real(file), level);

    [UnmanagedCallersOnly]
    private static int CheckReservedLock(SqliteFile* file, int* result) => RealMethods(file)->CheckReservedLock(Real(file), result);

    [UnmanagedCallersOnly]
    private static int FileControl(SqliteFile* file, int op, void* argument)
    {
        var shim = (ShimFile*)file;
        int flushed;
        if (op == FileControlCheckpointDone && shim->Kind == KindDatabase)
        {
            shim->InCheckpoint = 0;
            var fail = shim->PendingLength > 0 && t_failCheckpointEnds > 0 && t_failCheckpointEnds-- > 0;
            flushed = shim->PendingLength == 0 ? SqliteOk : FlushDatabase(shim, keepOnFailure: true, fail);
        }
        else
        {
            flushed = Flush(shim);
            if (shim->Kind == KindDatabase && flushed == SqliteOk)
            {
                // Runs only where the checkpoint's new blocks are reserved: a checkpoint that grows the database says
                // so with a size hint right after CKPT_START; one that does not only writes over allocated pages.
                if (op == FileControlCheckpointStart) shim->InCheckpoint = CheckpointRuns && shim->Descriptor >= 0 ? 1 : 0;
                if (op == FileControlSizeHint && shim->InCheckpoint != 0 && !Reserve(shim, *(long*)argument)) shim->InCheckpoint = 0;
            }
        }

        return flushed != SqliteOk ? flushed : RealMethods(file)->FileControl(Real(file), op, argument);
    }

    [UnmanagedCallersOnly]
    private static int SectorSize(SqliteFile* file) => RealMethods(file)->SectorSize(Real(file));

    [UnmanagedCallersOnly]
    private static int DeviceCharacteristics(SqliteFile* file) => RealMethods(file)->DeviceCharacteristics(Real(file));

    [UnmanagedCallersOnly]
    private static int ShmMap(SqliteFile* file, int page, int pageSize, int extend, void** map) =>
        RealMethods(file)->Version >= 2 ? RealMethods(file)->ShmMap(Real(file), page, pageSize, extend, map) : SqliteIoErr;

    [UnmanagedCallersOnly]
    private static int ShmLock(SqliteFile* file, int offset, int count, int flags) =>
        RealMethods(file)->Version >= 2 ? RealMethods(file)->ShmLock(Real(file), offset, count, flags) : SqliteIoErr;

    [UnmanagedCallersOnly]
    private static void ShmBarrier(SqliteFile* file)
    {
        if (RealMethods(file)->Version >= 2) RealMethods(file)->ShmBarrier(Real(file));
    }

    [UnmanagedCallersOnly]
    private static int ShmUnmap(SqliteFile* file, int deleteFlag) =>
        RealMethods(file)->Version >= 2 ? RealMethods(file)->ShmUnmap(Real(file), deleteFlag) : SqliteOk;

    [UnmanagedCallersOnly]
    private static int Fetch(SqliteFile* file, long offset, int amount, void** pointer)
    {
        // While pages are kept back or owed, SQLite reads through Read, which writes them first or fails.
        var shim = (ShimFile*)file;
        if (shim->PendingLength > 0 || (shim->Kind == KindDatabase && IsOwed(shim)))
        {
            *pointer = null;
            return SqliteOk;
        }

        if (RealMethods(file)->Version >= 3) return RealMethods(file)->Fetch(Real(file), offset, amount, pointer);
        *pointer = null;
        return SqliteOk;
    }

    [UnmanagedCallersOnly]
    private static int Unfetch(SqliteFile* file, long offset, void* pointer) =>
        RealMethods(file)->Version >= 3 ? RealMethods(file)->Unfetch(Real(file), offset, pointer) : SqliteOk;

    /// <summary>sqlite3_file: every open file begins with its methods.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SqliteFile
    {
        public IoMethods* Methods;
    }

    /// <summary>This VFS's file: its methods, the unix-excl file it wraps (placed right after it) and the read-ahead buffer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ShimFile
    {
        public IoMethods* Methods;
        public SqliteFile* Real;
        public byte* Buffer;
        public long BufferStart;
        public long BufferVersion;
        public long LastEnd;
        public int BufferLength;

        // Sequential reads in a row that went to the file, up to this one.
        public int Run;

        // The file's size as of the write version SizeVersion (-1: not known).
        public long Size;
        public long SizeVersion;

        // KindDatabase, KindLog or KindOther.
        public int Kind;

        // Bytes of the log written by SQLite and not yet to the file, from PendingStart.
        public byte* Pending;
        public long PendingStart;
        public int PendingLength;

        // 1 from a commit frame's header to the next transaction's first frame.
        public int Committing;

        // The database: 1 between a checkpoint's CKPT_START and CKPT_DONE; 1 while a run SQLite counts as copied is
        // kept because it failed to reach the file; the hash of the file's name, which every connection's file shares.
        public int InCheckpoint;
        public int Owed;
        public ulong NameHash;
        public int Descriptor;
    }

    /// <summary>sqlite3_io_methods, version 3.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct IoMethods
    {
        public int Version;
        public delegate* unmanaged<SqliteFile*, int> Close;
        public delegate* unmanaged<SqliteFile*, byte*, int, long, int> Read;
        public delegate* unmanaged<SqliteFile*, byte*, int, long, int> Write;
        public delegate* unmanaged<SqliteFile*, long, int> Truncate;
        public delegate* unmanaged<SqliteFile*, int, int> Sync;
        public delegate* unmanaged<SqliteFile*, long*, int> FileSize;
        public delegate* unmanaged<SqliteFile*, int, int> Lock;
        public delegate* unmanaged<SqliteFile*, int, int> Unlock;
        public delegate* unmanaged<SqliteFile*, int*, int> CheckReservedLock;
        public delegate* unmanaged<SqliteFile*, int, void*, int> FileControl;
        public delegate* unmanaged<SqliteFile*, int> SectorSize;
        public delegate* unmanaged<SqliteFile*, int> DeviceCharacteristics;
        public delegate* unmanaged<SqliteFile*, int, int, int, void**, int> ShmMap;
        public delegate* unmanaged<SqliteFile*, int, int, int, int> ShmLock;
        public delegate* unmanaged<SqliteFile*, void> ShmBarrier;
        public delegate* unmanaged<SqliteFile*, int, int> ShmUnmap;
        public delegate* unmanaged<SqliteFile*, long, int, void**, int> Fetch;
        public delegate* unmanaged<SqliteFile*, long, void*, int> Unfetch;
    }

    /// <summary>sqlite3_vfs, version 3.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SqliteVfs
    {
        public int Version;
        public int FileSize;
        public int MaxPathname;
        public SqliteVfs* Next;
        public byte* Name;
        public void* AppData;
        public delegate* unmanaged<SqliteVfs*, byte*, SqliteFile*, int, int*, int> Open;
        public delegate* unmanaged<SqliteVfs*, byte*, int, int> Delete;
        public nint Access;
        public nint FullPathname;
        public nint DlOpen;
        public nint DlError;
        public nint DlSym;
        public nint DlClose;
        public nint Randomness;
        public nint Sleep;
        public nint CurrentTime;
        public nint GetLastError;
        public nint CurrentTimeInt64;
        public nint SetSystemCall;
        public nint GetSystemCall;
        public nint NextSystemCall;
    }
}
