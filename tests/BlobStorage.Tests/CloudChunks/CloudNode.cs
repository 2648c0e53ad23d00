using Azure.Storage.Blobs;
using BlobStorage.Abstractions;
using BlobStorage.Azure;
using BlobStorage.S3;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.CloudChunks;

/// <summary>A container in Azurite or a bucket in the S3 server, made for one test and deleted with everything in it on dispose.</summary>
internal sealed class CloudNode : IAsyncDisposable
{
    private readonly Func<Task> _delete;

    private CloudNode(string service, string name, Func<Task> delete)
    {
        Service = service;
        Name = name;
        _delete = delete;
    }

    /// <summary><c>azure</c> or <c>s3</c>.</summary>
    public string Service { get; }

    /// <summary>The container's or bucket's name.</summary>
    public string Name { get; }

    /// <summary>The options of an Azure store in the container.</summary>
    public AzureBlobChunkStoreOptions AzureOptions => new() { ConnectionString = TestServers.AzuriteConnectionString, ContainerName = Name };

    /// <summary>The options of an S3 store in the bucket.</summary>
    public S3ChunkStoreOptions S3Options => S3ChunkStoreTests.TestOptions(Name);

    /// <summary>A new store over the container or bucket; the caller disposes it.</summary>
    public IChunkStore OpenStore() => Service == "azure" ? new AzureBlobChunkStore(AzureOptions) : new S3ChunkStore(S3Options);

    /// <summary>Makes a container (<c>azure</c>) or bucket (<c>s3</c>), ignoring the test when its server is not running.</summary>
    public static async Task<CloudNode> CreateAsync(string service)
    {
        var name = "bs-node-" + Guid.NewGuid().ToString("N")[..16];
        if (service == "azure")
        {
            TestServers.RequireAzurite();
            var container = new BlobContainerClient(TestServers.AzuriteConnectionString, name);
            await container.CreateAsync();
            return new CloudNode(service, name, async () => await container.DeleteIfExistsAsync());
        }

        TestServers.RequireS3();
        var client = S3ChunkStoreTests.TestClient();
        await client.PutBucketAsync(name);
        return new CloudNode(service, name, async () =>
        {
            try
            {
                await S3ChunkStoreTests.DeleteBucketAsync(client, name);
            }
            finally
            {
                client.Dispose();
            }
        });
    }

    public async ValueTask DisposeAsync() => await _delete();
}
