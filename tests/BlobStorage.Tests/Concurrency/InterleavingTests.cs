using BlobStorage.Abstractions;
using BlobStorage.DependencyInjection;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Concurrency;

/// <summary>
/// Interleavings the random concurrency tests can only hope to hit, forced by holding one call
/// of the metadata store at a chosen point while the test runs other calls.
/// </summary>
[TestFixture]
public sealed class InterleavingTests
{
    private const int ChunkSize = TestStore.ChunkSize;
    private static readonly byte[] Old = Streams.Bytes((2 * ChunkSize) + 5, seed: 1);
    private static readonly byte[] New = Streams.Bytes((2 * ChunkSize) + 5, seed: 2);

    [Test]
    [CancelAfter(30_000)]
    public async Task A_download_whose_version_is_replaced_and_collected_before_it_pins_its_chunks_still_returns_one_whole_version(CancellationToken cancellationToken)
    {
        // Grace period zero ("collects at the next pass") makes the window as wide as a maintenance pass, with no clock jump.
        await using var hooked = await HookedStore.OpenAsync(o => o.GarbageCollectionGracePeriod = TimeSpan.Zero);
        var store = hooked.Store;
        await store.CreateContainerAsync("race", cancellationToken: cancellationToken);
        await store.UploadBytesAsync("race", "blob", Old);

        // The download reads the metadata of the old version and is held before it pins that version's chunks...
        var pause = hooked.Metadata.PauseAfterNextGetBlob();
        var download = Task.Run(
            async () =>
            {
                await using var blob = await store.DownloadAsync("race", "blob", cancellationToken: cancellationToken);
                return (blob.Properties, Bytes: await Streams.ReadAllAsync(blob.Content));
            },
            cancellationToken);
        await pause.Reached.WaitAsync(cancellationToken);

        // ...while the blob is overwritten and a maintenance pass collects the old chunks.
        await store.UploadBytesAsync("race", "blob", New);
        var maintenance = await store.RunMaintenanceAsync(cancellationToken);
        maintenance.ChunksCollected.Should().Be(3, "the old version's three chunks are unreferenced and nothing had pinned them");
        pause.Release();

        var (properties, bytes) = await download;
        Streams.Sha256(bytes).Should().Be(properties.ContentHash, "a download returns the whole version its properties describe");
        bytes.Should().Equal(properties.ContentHash == Streams.Sha256(Old) ? Old : New);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Access_counts_stay_visible_while_their_batch_is_being_written(CancellationToken cancellationToken)
    {
        await using var hooked = await HookedStore.OpenAsync();
        var store = hooked.Store;
        await store.CreateContainerAsync("race", cancellationToken: cancellationToken);
        await store.UploadBytesAsync("race", "blob", Old);
        await store.DownloadBytesAsync("race", "blob");
        (await store.GetPropertiesAsync("race", "blob", cancellationToken)).AccessCount.Should().Be(1, "counts not yet written are merged into the properties");

        // Reading the statistics writes the gathered counts; hold that write half way.
        var pause = hooked.Metadata.PauseBeforeNextRecordAccess();
        var flush = Task.Run(() => store.GetStatisticsAsync(cancellationToken), cancellationToken);
        await pause.Reached.WaitAsync(cancellationToken);
        var during = await store.GetPropertiesAsync("race", "blob", cancellationToken);
        pause.Release();
        await flush;

        during.AccessCount.Should().Be(1, "a download once counted stays counted while its batch is on its way to the metadata store");
        (await store.GetPropertiesAsync("race", "blob", cancellationToken)).AccessCount.Should().Be(1);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Downloads_of_a_replaced_version_are_not_credited_to_its_replacement(CancellationToken cancellationToken)
    {
        await using var hooked = await HookedStore.OpenAsync();
        var store = hooked.Store;
        await store.CreateContainerAsync("race", cancellationToken: cancellationToken);
        await store.UploadBytesAsync("race", "blob", Old);
        await store.DownloadBytesAsync("race", "blob");

        // The batch holding that download is being written when the blob is overwritten.
        var pause = hooked.Metadata.PauseBeforeNextRecordAccess();
        var flush = Task.Run(() => store.GetStatisticsAsync(cancellationToken), cancellationToken);
        await pause.Reached.WaitAsync(cancellationToken);
        await store.UploadBytesAsync("race", "blob", New);
        pause.Release();
        await flush;

        var properties = await store.GetPropertiesAsync("race", "blob", cancellationToken);
        properties.AccessCount.Should().Be(0, "the new version was never downloaded (an overwrite starts a version's count afresh)");
        properties.LastAccessedOn.Should().BeNull();
        var statistics = await store.GetStatisticsAsync(cancellationToken);
        statistics.ReadOperations.Should().Be(1, "the download of the old version still counts in the totals");
        statistics.BytesRead.Should().Be(Old.Length);
    }

    /// <summary>A store in a temporary folder whose metadata store can be paused.</summary>
    private sealed class HookedStore : IAsyncDisposable
    {
        private HookedStore(TempFolder folder, FakeTimeProvider time, PausingMetadataStore metadata, IBlobStore store)
        {
            Folder = folder;
            Time = time;
            Metadata = metadata;
            Store = store;
        }

        public TempFolder Folder { get; }

        public FakeTimeProvider Time { get; }

        public PausingMetadataStore Metadata { get; }

        public IBlobStore Store { get; }

        public static async Task<HookedStore> OpenAsync(Action<BlobStorageOptions>? configure = null)
        {
            var folder = new TempFolder("hooked");
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
            var options = new BlobStorageOptions { RootPath = folder.Path, ChunkSize = ChunkSize };
            configure?.Invoke(options);
            var metadata = new PausingMetadataStore(StoreComposition.CreateMetadataStore(options));
            var store = await new BlobStoreBuilder(folder.Path)
                .Configure(o =>
                {
                    o.ChunkSize = ChunkSize;
                    configure?.Invoke(o);
                })
                .UseTimeProvider(time)
                .UseMetadataStore(metadata)
                .OpenAsync();
            return new HookedStore(folder, time, metadata, store);
        }

        public async ValueTask DisposeAsync()
        {
            await Store.DisposeAsync();
            await Metadata.DisposeAsync();
            Folder.Dispose();
        }
    }
}
