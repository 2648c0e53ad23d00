using BlobStorage.Abstractions;

namespace BlobStorage.Tests.Facade;

/// <summary>
/// Wraps a metadata store and can hold access-count writes at a gate, so a test can look at the
/// store while a flush is under way.
/// </summary>
internal sealed class GatedMetadataStore(IMetadataStore inner) : IMetadataStore
{
    private TaskCompletionSource? _gate;

    /// <summary>Completes when a held <see cref="RecordAccessAsync"/> has reached the gate.</summary>
    public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Holds every following access-count write until <see cref="Release"/>.</summary>
    public void Hold()
    {
        Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release() => Interlocked.Exchange(ref _gate, null)?.TrySetResult();

    public async ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, CancellationToken cancellationToken = default)
    {
        if (_gate is { } gate)
        {
            Entered.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
        }

        await inner.RecordAccessAsync(accesses, cancellationToken);
    }

    public ValueTask InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public ValueTask CreateContainerAsync(ContainerProperties container, CancellationToken cancellationToken = default) => inner.CreateContainerAsync(container, cancellationToken);

    public ValueTask<ContainerProperties?> GetContainerAsync(string name, CancellationToken cancellationToken = default) => inner.GetContainerAsync(name, cancellationToken);

    public ValueTask<IReadOnlyList<ContainerProperties>> ListContainersAsync(CancellationToken cancellationToken = default) => inner.ListContainersAsync(cancellationToken);

    public ValueTask DeleteContainerAsync(string name, bool deleteContents, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.DeleteContainerAsync(name, deleteContents, now, cancellationToken);

    public ValueTask<BlobRecord?> GetBlobAsync(string container, string name, CancellationToken cancellationToken = default) => inner.GetBlobAsync(container, name, cancellationToken);

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
