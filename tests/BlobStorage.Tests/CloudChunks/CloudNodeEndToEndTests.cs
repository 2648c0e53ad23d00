using BlobStorage.Abstractions;
using BlobStorage.Azure;
using BlobStorage.Chunks;
using BlobStorage.S3;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace BlobStorage.Tests.CloudChunks;

/// <summary>
/// A cloud container or bucket as the node of another region, through <see cref="BlobStoreBuilder"/> and through
/// <c>AddBlobStorage</c>: a <see cref="ReplicationStrategy.CrossRegion"/> container keeps its remote copy there.
/// </summary>
[TestFixture("azure")]
[TestFixture("s3")]
public sealed class CloudNodeEndToEndTests(string service)
{
    private const int Chunk = BlobStorageOptions.MinChunkSize;
    private static readonly string[] LocalNodes = ["home-1", "home-2", "home-3"];

    private static void Configure(BlobStorageOptions o)
    {
        o.ChunkSize = Chunk;
        o.InlineThreshold = 4096;
        o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
        o.Topology.LocalRegion = "home";

        // Replication runs when the test calls maintenance.
        o.Topology.ReplicateAfterUpload = false;
    }

    [Test]
    public async Task A_CrossRegion_container_keeps_its_remote_copy_in_the_cloud_and_a_download_reads_it_when_the_local_copies_are_gone()
    {
        await using var cloud = await CloudNode.CreateAsync(service);
        using var folder = new TempFolder("cloud-e2e");
        var content = Streams.Bytes((3 * Chunk) + 1234, seed: 18);
        var builder = new BlobStoreBuilder(Path.Combine(folder.Path, "store")).Configure(Configure);
        foreach (var node in LocalNodes) builder.AddNode("home", node, Path.Combine(folder.Path, node));
        using var s3 = service == "s3" ? new S3ChunkStore(cloud.S3Options) : null;
        builder = s3 is null ? builder.AddAzureBlobNode("cloud", "bucket", cloud.AzureOptions) : builder.AddS3Node("cloud", "bucket", s3);

        await using var store = await builder.OpenAsync();
        await store.CreateContainerAsync("docs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.CrossRegion });
        await store.UploadBytesAsync("docs", "report.bin", content);

        var before = await store.GetLocationsAsync("docs", "report.bin");
        before.Copies.Should().NotContain(c => c.Node == "bucket" && c.State == ChunkCopyState.Present, "the remote copy waits in the replication queue");
        (await store.RunMaintenanceAsync()).ReplicasWritten.Should().Be(4);

        var locations = await store.GetLocationsAsync("docs", "report.bin");
        locations.IsFullyReplicated.Should().BeTrue();
        var remote = locations.Copies.Where(c => c.Node == "bucket").ToList();
        remote.Select(c => c.ChunkIndex).Should().BeEquivalentTo([0, 1, 2, 3]);
        remote.Should().OnlyContain(c => c.Region == "cloud" && c.State == ChunkCopyState.Present);
        var reader = cloud.OpenStore();
        try
        {
            foreach (var copy in remote) (await reader.ExistsAsync(copy.Chunk)).Should().BeTrue();
            ((IStoreMarker)reader).ReadStoreId().Should().NotBeNullOrEmpty("the store marked the bucket as its own when it opened");
        }
        finally
        {
            (reader as IDisposable)?.Dispose();
        }

        // Every local copy gone: the download has only the bucket to read from.
        foreach (var node in LocalNodes)
        {
            foreach (var id in remote.Select(c => c.Chunk).Distinct())
            {
                var hex = id.ToString();
                var file = Path.Combine(folder.Path, node, hex[..2], hex);
                File.Exists(file).Should().BeTrue("three local nodes hold the three local copies");
                File.Delete(file);
            }
        }

        (await store.DownloadBytesAsync("docs", "report.bin")).Should().Equal(content);
    }

    [Test]
    public async Task AddBlobStorage_takes_a_cloud_node_and_replicates_into_it()
    {
        await using var cloud = await CloudNode.CreateAsync(service);
        using var folder = new TempFolder("cloud-di");
        var services = new ServiceCollection();
        var blobStorage = services.AddBlobStorage(o =>
        {
            o.RootPath = Path.Combine(folder.Path, "store");
            Configure(o);
            foreach (var node in LocalNodes) o.Topology.AddNode("home", node, Path.Combine(folder.Path, node));
        });
        if (service == "azure") blobStorage.AddAzureBlobNode("cloud", "bucket", cloud.AzureOptions);
        else blobStorage.AddS3Node("cloud", "bucket", cloud.S3Options);

        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IBlobStore>();
        await store.CreateContainerAsync("docs", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.CrossRegion });
        var content = Streams.Bytes(Chunk + 10, seed: 19);
        await store.UploadBytesAsync("docs", "a.bin", content);
        (await store.RunMaintenanceAsync()).ReplicasWritten.Should().Be(2);

        var locations = await store.GetLocationsAsync("docs", "a.bin");
        locations.Copies.Where(c => c.Node == "bucket").Should().HaveCount(2).And.OnlyContain(c => c.State == ChunkCopyState.Present);
    }
}
