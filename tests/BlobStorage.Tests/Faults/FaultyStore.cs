using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Faults;

/// <summary>
/// A store in a temporary folder whose chunk files go through a <see cref="FaultyFileSystem"/>; the
/// metadata database sits beside them on the plain disk (SQLite is durable by itself). Reopen it on
/// the plain disk to see what a restart after a power cut would.
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
    public static async Task<FaultyStore> OpenAsync(Action<BlobStorageOptions>? configure = null, Action<FaultyFileSystem>? setup = null, TempFolder? reuse = null, bool durableOpen = true)
    {
        var folder = reuse ?? new TempFolder("faulty");
        if (reuse is not null) Empty(reuse.Path);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var files = new FaultyFileSystem(durableOpen ? Path.Combine(folder.Path, "chunks") : folder.Path);
        setup?.Invoke(files);
        var store = new FaultyStore(folder, reuse is null, time, files, configure);
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
        Chunks = new FileSystemChunkStore(ChunkRoot, Files);
        try
        {
            Store = await new BlobStoreBuilder(Root).Configure(Configure).UseChunkStore(Chunks).UseTimeProvider(Time).OpenAsync();
        }
        catch
        {
            Chunks.Dispose();
            Chunks = null;
            throw;
        }
    }

    /// <summary>Closes the store and its chunk store, as a process ending (or dying) would release them.</summary>
    public async Task CloseAsync()
    {
        if (Store is not null) await Store.DisposeAsync();
        Store = null!;
        Chunks?.Dispose();
        Chunks = null;
    }

    /// <summary>Closes, then opens the folder on the plain disk, as a restarted machine would.</summary>
    public async Task ReopenOnPlainDiskAsync()
    {
        await CloseAsync();
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
