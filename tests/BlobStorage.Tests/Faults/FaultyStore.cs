using BlobStorage.Chunks.FileSystem;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Faults;

/// <summary>
/// A store in a temporary folder whose chunk files go through a <see cref="FaultyFileSystem"/>; the
/// metadata database sits beside them on the plain disk. With <c>cutDatabase</c>, the database is in the
/// power cut too: its files are copied each time SQLite flushes its write-ahead log (every commit with
/// <see cref="SynchronousMode.Full"/>, only the durable ones with <see cref="SynchronousMode.Normal"/>), and a
/// reopen after a cut puts back the last copy, dropping the frames written since. Reopen it on the plain disk
/// to see what a restart after a power cut would.
/// </summary>
internal sealed class FaultyStore : IAsyncDisposable
{
    private readonly Action<BlobStorageOptions>? _configure;
    private readonly bool _ownsFolder;

    private FaultyStore(TempFolder folder, bool ownsFolder, FakeTimeProvider time, FaultyFileSystem files, Action<BlobStorageOptions>? configure)
    {
        Folder = folder;
        _ownsFolder = ownsFolder;
        Time = time;
        Files = files;
        _configure = configure;
    }

    public const int ChunkSize = BlobStorageOptions.MinChunkSize;

    public TempFolder Folder { get; }

    public string Root => Folder.Path;

    public string ChunkRoot => Path.Combine(Folder.Path, "chunks");

    public FakeTimeProvider Time { get; }

    public FaultyFileSystem Files { get; }

    public FileSystemChunkStore? Chunks { get; private set; }

    /// <summary>The metadata store of the open store, when it was opened over faults.</summary>
    public SqliteMetadataStore? Metadata { get; private set; }

    /// <summary>Whether the database is in the power cut (see the class summary).</summary>
    public bool CutDatabase { get; private set; }

    /// <summary>How many times the database's log was flushed (and its files copied) since the store was made.</summary>
    public int DatabaseFlushes { get; private set; }

    private (byte[] Database, byte[]? Log)? _durableDatabase;

    public string DatabasePath => Path.Combine(Folder.Path, "metadata.db");

    public IBlobStore Store { get; private set; } = null!;

    /// <summary>
    /// Opens a new store over a fault layer; what opening wrote counts as durable (SQLite fsyncs the
    /// root folder as it creates its files). With <paramref name="reuse"/>, the store is made in that
    /// folder after every file in it is deleted: its 256 shard folders stay, which saves most of the
    /// cost of a new store on a disk where making and removing a folder takes a millisecond.
    /// </summary>
    /// <param name="configure">Changes the options.</param>
    /// <param name="setup">Sets the fault layer up before the store opens.</param>
    /// <param name="reuse">The folder to make the store in.</param>
    /// <param name="durableOpen">
    /// True (the default) declares what opening wrote durable. False keeps the model honest from the
    /// first operation, with the layer over the whole store folder, so that the chunk folder's own
    /// entry in it counts too (SQLite's files are not under the layer and are left alone).
    /// </param>
    public static async Task<FaultyStore> OpenAsync(Action<BlobStorageOptions>? configure = null, Action<FaultyFileSystem>? setup = null, TempFolder? reuse = null, bool durableOpen = true, bool cutDatabase = false)
    {
        var folder = reuse ?? new TempFolder("faulty");
        if (reuse is not null) Empty(reuse.Path);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var files = new FaultyFileSystem(durableOpen ? Path.Combine(folder.Path, "chunks") : folder.Path);
        setup?.Invoke(files);
        var store = new FaultyStore(folder, reuse is null, time, files, configure) { CutDatabase = cutDatabase };
        try
        {
            await store.OpenOverFaultsAsync();
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }

        if (durableOpen) files.MarkDurable();
        if (cutDatabase) store.MarkDatabaseDurable();
        files.ResetCounts();
        return store;
    }

    public void Configure(BlobStorageOptions o)
    {
        o.ChunkSize = ChunkSize;
        o.GarbageCollectionGracePeriod = TimeSpan.FromMinutes(15);
        o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
        _configure?.Invoke(o);
    }

    /// <summary>Opens (again) over the fault layer.</summary>
    public async Task OpenOverFaultsAsync()
    {
        var options = new BlobStorageOptions();
        Configure(options);
        Chunks = new FileSystemChunkStore(ChunkRoot, Files);
        Metadata = new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = DatabasePath, SynchronousMode = options.SynchronousMode, BusyTimeout = options.BusyTimeout });
        if (CutDatabase) Metadata.LogFlushed = CopyDurableDatabase;
        try
        {
            Store = await new BlobStoreBuilder(Root).Configure(Configure).UseChunkStore(Chunks).UseMetadataStore(Metadata).UseTimeProvider(Time).OpenAsync();
        }
        catch
        {
            await Metadata.DisposeAsync();
            Metadata = null;
            Chunks.Dispose();
            Chunks = null;
            throw;
        }
    }

    /// <summary>Declares what the database files hold now durable, as a test's setup may (the folders' state after open, say).</summary>
    public void MarkDatabaseDurable()
    {
        _durableDatabase = ReadDatabase();
        DatabaseFlushes++;
    }

    /// <summary>Called under the store's write lock right after a commit that flushed the log: the files now are what a power cut leaves.</summary>
    private void CopyDurableDatabase()
    {
        _durableDatabase = ReadDatabase();
        DatabaseFlushes++;
    }

    private (byte[] Database, byte[]? Log) ReadDatabase() => (ReadShared(DatabasePath)!, ReadShared(DatabasePath + "-wal"));

    private static byte[]? ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Closes the store and its chunk store, as a process ending (or dying) would release them.</summary>
    public async Task CloseAsync()
    {
        if (Store is not null) await Store.DisposeAsync();
        Store = null!;
        if (Metadata is not null) await Metadata.DisposeAsync();
        Metadata = null;
        Chunks?.Dispose();
        Chunks = null;
    }

    /// <summary>
    /// Closes, then opens the folder on the plain disk, as a restarted machine would. With the database in
    /// the cut, its files are first put back as the last flush of the log left them.
    /// </summary>
    public async Task ReopenOnPlainDiskAsync()
    {
        await CloseAsync();
        if (CutDatabase && _durableDatabase is { } durable)
        {
            await File.WriteAllBytesAsync(DatabasePath, durable.Database);
            if (durable.Log is null) File.Delete(DatabasePath + "-wal");
            else await File.WriteAllBytesAsync(DatabasePath + "-wal", durable.Log);
        }

        Store = await new BlobStoreBuilder(Root).Configure(Configure).UseTimeProvider(Time).OpenAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        catch (Exception ex) when (ex is IOException or Abstractions.BlobStorageException)
        {
            // Closing after a power cut may fail to write access counts; the folder goes anyway.
        }

        if (_ownsFolder) Folder.Dispose();
    }

    /// <summary>Deletes every file below <paramref name="path"/>, keeping the folders.</summary>
    public static void Empty(string path)
    {
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)) File.Delete(file);
    }
}
