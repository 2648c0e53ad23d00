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

    [Test]
    [CancelAfter(30_000)]
    public async Task A_chunk_left_by_a_failed_upload_is_collected_even_if_another_upload_held_it_during_a_pass(CancellationToken cancellationToken)
    {
        await using var hooked = await HookedStore.OpenAsync();
        var store = hooked.Store;
        await store.CreateContainerAsync("race", cancellationToken: cancellationToken);
        var shared = Streams.Bytes(ChunkSize, seed: 3);
        var sharedId = ChunkNames.Of(shared, ChunkSize)[0].Id;
        var wrongHash = new string('0', 64);

        // Upload A writes the chunk, then is refused (wrong expected hash): the chunk is left for the next pass to check.
        var refused = () => store.UploadBytesAsync("race", "a", shared, new BlobUploadOptions { ExpectedContentHash = wrongHash });
        await refused.Should().ThrowAsync<BlobStorageException>().Where(e => e.ErrorCode == BlobErrorCode.ContentHashMismatch);
        // Dated past the grace period, so that only the pin keeps it from the collector from here on.
        FileClock.SetWrittenAt(Path.Combine(hooked.Folder.Path, "chunks", sharedId.ToString()[..2], sharedId.ToString()), hooked.Time.GetUtcNow() - TimeSpan.FromMinutes(16));
        (await store.VerifyAsync(cancellationToken: cancellationToken)).UnreferencedChunks.Should().Equal([sharedId], "nothing refers to the refused upload's chunk yet");

        // Upload B starts with the same chunk (found stored, so B did not write it) and is held reading its second chunk.
        var second = Streams.Bytes(100, seed: 4);
        var gated = new GatedStream(shared, second);
        var uploadB = Task.Run(
            () => store.UploadAsync("race", "b", gated, new BlobUploadOptions { ExpectedContentHash = wrongHash }, cancellationToken),
            cancellationToken);
        await gated.Reached.WaitAsync(cancellationToken);
        while ((await store.VerifyAsync(cancellationToken: cancellationToken)).UnreferencedChunks.Count > 0)
        {
            // B pins the chunk on the thread pool; a pinned chunk is not reported as unreferenced.
            await Task.Yield();
        }

        // A pass now finds the chunk in use by B and leaves it.
        await store.RunMaintenanceAsync(cancellationToken);

        // B is refused too; a later pass must still remove the chunk nobody refers to.
        gated.Release();
        var refusedB = () => uploadB;
        await refusedB.Should().ThrowAsync<BlobStorageException>().Where(e => e.ErrorCode == BlobErrorCode.ContentHashMismatch);
        await store.RunMaintenanceAsync(cancellationToken);

        // Past the grace period of every file, B's own second chunk included.
        hooked.Time.PassGracePeriodOfFiles();
        await store.RunMaintenanceAsync(cancellationToken);

        var report = await store.VerifyAsync(cancellationToken: cancellationToken);
        report.UnreferencedChunks.Should().BeEmpty("the chunk of two refused uploads is an orphan, and orphans are removed by maintenance, not only at the next open");
        report.ChunksChecked.Should().Be(0);
    }

    /// <summary>Yields its first part, then holds the next read until released, then yields the rest.</summary>
    private sealed class GatedStream(byte[] first, byte[] rest) : Stream
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public Task Reached => _reached.Task;

        public void Release() => _released.TrySetResult();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => first.Length + rest.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == first.Length)
            {
                _reached.TrySetResult();
                await _released.Task.WaitAsync(cancellationToken);
            }

            var source = _position < first.Length ? first.AsMemory(_position) : rest.AsMemory(_position - first.Length);
            var count = Math.Min(source.Length, buffer.Length);
            source[..count].CopyTo(buffer);
            _position += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A store in a temporary folder whose metadata store can be paused.</summary>
    private sealed class HookedStore : IAsyncDisposable
    {
        private readonly IMetadataStore _metadata;

        private HookedStore(TempFolder folder, FakeTimeProvider time, IMetadataStore metadata, PausingMetadataStore control, IBlobStore store)
        {
            Folder = folder;
            Time = time;
            _metadata = metadata;
            Metadata = control;
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
            var (metadata, control) = PausingMetadataStore.Wrap(StoreComposition.CreateMetadataStore(options));
            var store = await new BlobStoreBuilder(folder.Path)
                .Configure(o =>
                {
                    o.ChunkSize = ChunkSize;
                    o.InlineThreshold = ChunkSize - 1;
                    configure?.Invoke(o);
                })
                .UseTimeProvider(time)
                .UseMetadataStore(metadata)
                .OpenAsync();
            return new HookedStore(folder, time, metadata, control, store);
        }

        public async ValueTask DisposeAsync()
        {
            await Store.DisposeAsync();
            await _metadata.DisposeAsync();
            Folder.Dispose();
        }
    }
}
