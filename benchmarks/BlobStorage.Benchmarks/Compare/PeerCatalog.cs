namespace BlobStorage.Benchmarks.Compare;

/// <summary>Opens a peer by its name, on a fresh folder of its own.</summary>
internal static class PeerCatalog
{
    public static async Task<IPeerStore> OpenAsync(string name, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        return name switch
        {
            "file-store" => new FilePeerStore(folder),
            "file-store+sqlite" => new FileSqlitePeerStore(folder),
            "file-store-chunked" => new ChunkedFilePeerStore(folder),
            "sqlite-blobs" => new SqliteBlobPeerStore(folder),
            "litedb" => new LiteDbPeerStore(folder),
            "blobstorage" => await BlobStoragePeerStore.OpenAsync(folder, cancellationToken),
            _ => throw new ArgumentException($"Unknown peer '{name}'.", nameof(name)),
        };
    }
}
