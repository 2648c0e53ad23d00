using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Support;

/// <summary>
/// Opens a store in a temporary folder with a fake clock and small chunks (64 KiB), so that
/// multi-chunk blobs are cheap to make, and no maintenance schedule (tests call RunMaintenanceAsync). Reopen it to test restarts; dispose it to delete the folder.
/// </summary>
public sealed class TestStore : IAsyncDisposable
{
    private readonly Action<BlobStorageOptions>? _configure;

    private TestStore(TempFolder folder, FakeTimeProvider time, Action<BlobStorageOptions>? configure)
    {
        Folder = folder;
        Time = time;
        _configure = configure;
    }

    public TempFolder Folder { get; }

    public FakeTimeProvider Time { get; }

    public IBlobStore Store { get; private set; } = null!;

    public string RootPath => Folder.Path;

    public const int ChunkSize = BlobStorageOptions.MinChunkSize;

    public static async Task<TestStore> OpenAsync(Action<BlobStorageOptions>? configure = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var test = new TestStore(new TempFolder("store"), time, configure);
        test.Store = await test.BuildAsync();
        return test;
    }

    /// <summary>Disposes the store and opens the same folder again, as a restarted process would.</summary>
    public async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await BuildAsync();
    }

    private Task<IBlobStore> BuildAsync() =>
        new BlobStoreBuilder(Folder.Path)
            .Configure(o =>
            {
                o.ChunkSize = ChunkSize;

                // A blob of exactly one chunk goes to a chunk file, as with the default 4 MiB chunks.
                o.InlineThreshold = ChunkSize - 1;
                o.GarbageCollectionGracePeriod = TimeSpan.FromMinutes(15);
                // Tests run maintenance themselves, so that advancing the clock does not run a pass behind their back.
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                _configure?.Invoke(o);
            })
            .UseTimeProvider(Time)
            .OpenAsync();

    public async ValueTask DisposeAsync()
    {
        if (Store is not null) await Store.DisposeAsync();
        Folder.Dispose();
    }
}
