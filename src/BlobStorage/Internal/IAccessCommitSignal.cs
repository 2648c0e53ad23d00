using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// Implemented by a metadata store that can say when a batch of downloads is about to become visible to readers: it calls
/// <c>committing</c> after the batch's statements and before its transaction commits (more than once is allowed). Until then
/// a reader knows the batch is not in the rows it reads, so the counts still held in memory are merged without a doubt;
/// only between that call and the end of the write does a reader have to wait for the write to end.
/// </summary>
internal interface IAccessCommitSignal
{
    /// <summary><see cref="IMetadataStore.RecordAccessAsync"/>, calling <paramref name="committing"/> just before the commit.</summary>
    ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, Action committing, CancellationToken cancellationToken);
}
