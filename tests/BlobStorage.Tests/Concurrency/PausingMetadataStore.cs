using BlobStorage.Abstractions;

namespace BlobStorage.Tests.Concurrency;

/// <summary>
/// Delegates to a real metadata store and can hold one call at a chosen point until the test
/// releases it, so an interleaving of the facade's steps with other calls can be forced instead of
/// hoped for.
/// </summary>
public sealed class PausingMetadataStore(IMetadataStore inner) : IMetadataStore
{
    private Pause? _afterGetBlob;
    private Pause? _beforeRecordAccess;

    /// <summary>The next <see cref="GetBlobAsync"/> that finds a blob will wait, after reading it, until the pause is released.</summary>
    public Pause PauseAfterNextGetBlob()
    {
        var pause = new Pause();
        Volatile.Write(ref _afterGetBlob, pause);
        return pause;
    }

    /// <summary>The next <see cref="RecordAccessAsync"/> will wait, before writing, until the pause is released.</summary>
    public Pause PauseBeforeNextRecordAccess()
    {
        var pause = new Pause();
        Volatile.Write(ref _beforeRecordAccess, pause);
        return pause;
    }

    /// <summary>A one-shot pause: the held call signals <see cref="Reached"/> and waits for <see cref="Release"/>.</summary>
    public sealed class Pause
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _reached.Task;

        public void Release() => _released.TrySetResult();

        internal Task HoldAsync()
        {
            _reached.TrySetResult();
            return _released.Task;
        }
    }

    public async ValueTask<BlobRecord?> GetBlobAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        var record = await inner.GetBlobAsync(container, name, cancellationToken);
        if (record is not null && Interlocked.Exchange(ref _afterGetBlob, null) is { } pause) await pause.HoldAsync();
        return record;
    }

    public async ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _beforeRecordAccess, null) is { } pause) await pause.HoldAsync();
        await inner.RecordAccessAsync(accesses, cancellationToken);
    }

    public ValueTask InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public ValueTask CreateContainerAsync(ContainerProperties container, CancellationToken cancellationToken = default) => inner.CreateContainerAsync(container, cancellationToken);

    public ValueTask<ContainerProperties?> GetContainerAsync(string name, CancellationToken cancellationToken = default) => inner.GetContainerAsync(name, cancellationToken);

    public ValueTask<IReadOnlyList<ContainerProperties>> ListContainersAsync(CancellationToken cancellationToken = default) => inner.ListContainersAsync(cancellationToken);

    public ValueTask DeleteContainerAsync(string name, bool deleteContents, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.DeleteContainerAsync(name, deleteContents, now, cancellationToken);

    public ValueTask<BlobRecord> CommitBlobAsync(BlobRecord blob, BlobRequestConditions? conditions, CancellationToken cancellationToken = default) => inner.CommitBlobAsync(blob, conditions, cancellationToken);

    public ValueTask<BlobRecord> CopyBlobAsync(BlobCopyRequest request, CancellationToken cancellationToken = default) => inner.CopyBlobAsync(request, cancellationToken);

    public ValueTask<BlobRecord> DeleteBlobAsync(string container, string name, BlobRequestConditions? conditions, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.DeleteBlobAsync(container, name, conditions, now, cancellationToken);

    public ValueTask<BlobRecord> UpdateBlobMetadataAsync(string container, string name, BlobMetadataUpdate update, string newETag, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.UpdateBlobMetadataAsync(container, name, update, newETag, now, cancellationToken);

    public ValueTask<BlobListing> ListBlobsAsync(string container, BlobListQuery query, CancellationToken cancellationToken = default) => inner.ListBlobsAsync(container, query, cancellationToken);

    public ValueTask<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) => inner.GetStatisticsAsync(cancellationToken);

    public ValueTask<IReadOnlyList<ChunkReference>> GetCollectableChunksAsync(DateTimeOffset unreferencedBefore, int limit, CancellationToken cancellationToken = default) => inner.GetCollectableChunksAsync(unreferencedBefore, limit, cancellationToken);

    public ValueTask<IReadOnlyList<ChunkReference>> RemoveChunksAsync(IReadOnlyCollection<ChunkId> ids, DateTimeOffset unreferencedBefore, CancellationToken cancellationToken = default) => inner.RemoveChunksAsync(ids, unreferencedBefore, cancellationToken);

    public ValueTask<bool> ContainsChunkAsync(ChunkId id, CancellationToken cancellationToken = default) => inner.ContainsChunkAsync(id, cancellationToken);

    public IAsyncEnumerable<BlobRecord> EnumerateBlobsAsync(CancellationToken cancellationToken = default) => inner.EnumerateBlobsAsync(cancellationToken);

    public IAsyncEnumerable<ChunkRecord> EnumerateChunksAsync(CancellationToken cancellationToken = default) => inner.EnumerateChunksAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
