namespace BlobStorage.Internal;

/// <summary>
/// Implemented by a metadata store that several processes share (PostgreSQL): tells a store of the changes other
/// processes commit, so that what it keeps in memory (its edge cache, its container and CDN settings) follows them.
/// </summary>
internal interface IMetadataChangeFeed
{
    /// <summary>
    /// Calls <paramref name="onChange"/> for every change another process commits, in order, after its commit:
    /// (container, blob name) for a blob replaced, copied onto, changed or deleted; (container, null) for a container
    /// deleted or its settings changed; (null, null) when changes may have been missed (the feed reconnected), meaning
    /// "anything may have changed". Disposing the returned object ends the subscription.
    /// </summary>
    ValueTask<IAsyncDisposable> SubscribeAsync(Func<string?, string?, ValueTask> onChange, CancellationToken cancellationToken);
}
