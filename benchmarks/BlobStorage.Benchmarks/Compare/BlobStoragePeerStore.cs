using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// <c>blobstorage</c>: this engine, opened through <see cref="BlobStoreBuilder"/> with its default
/// options (durable: chunk files flushed and renamed, their folder flushed, every commit flushed
/// with <c>synchronous=FULL</c>), all blobs in one container.
/// </summary>
internal sealed class BlobStoragePeerStore : IPeerStore
{
    private const string Container = "compare";
    private const int CopyBufferSize = 1024 * 1024;

    private readonly IBlobStore _store;

    private BlobStoragePeerStore(IBlobStore store) => _store = store;

    public string Name => "blobstorage";

    public bool Durable => true;

    public string Description => "BlobStoreBuilder defaults: chunks flushed, renamed and their folder flushed, then one commit with synchronous=FULL";

    public static async Task<BlobStoragePeerStore> OpenAsync(string root, CancellationToken cancellationToken)
    {
        var store = await new BlobStoreBuilder(root).OpenAsync(cancellationToken);
        try
        {
            await store.CreateContainerAsync(Container, cancellationToken: cancellationToken);
            return new BlobStoragePeerStore(store);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    public async ValueTask PutAsync(string name, Stream content, CancellationToken cancellationToken = default) =>
        await _store.UploadAsync(Container, name, content, cancellationToken: cancellationToken);

    public async ValueTask GetAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        await using var download = await _store.DownloadAsync(Container, name, cancellationToken: cancellationToken);
        await download.Content.CopyToAsync(destination, (int)Math.Clamp(download.Length, 1, CopyBufferSize), cancellationToken);
    }

    public bool SupportsRanges => true;

    public async ValueTask GetRangeAsync(string name, long offset, int length, Stream destination, CancellationToken cancellationToken = default)
    {
        var options = new BlobDownloadOptions { Range = new BlobRange(offset, length) };
        await using var download = await _store.DownloadAsync(Container, name, options, cancellationToken);
        await download.Content.CopyToAsync(destination, length, cancellationToken);
    }

    public async ValueTask<int> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var count = 0;
        string? token = null;
        do
        {
            var page = await _store.ListAsync(
                Container,
                new BlobListOptions { Prefix = prefix, PageSize = BlobListOptions.MaxPageSize, ContinuationToken = token },
                cancellationToken);
            count += page.Blobs.Count;
            token = page.ContinuationToken;
        }
        while (token is not null);

        return count;
    }

    public async ValueTask DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        await _store.DeleteAsync(Container, name, cancellationToken: cancellationToken);

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
