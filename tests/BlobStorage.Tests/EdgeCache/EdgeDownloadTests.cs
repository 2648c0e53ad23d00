using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.EdgeCache;

/// <summary>Reads through edge locations of a real store: <see cref="IBlobStore.DownloadFromEdgeAsync"/> and the invalidation hooks.</summary>
[Parallelizable(ParallelScope.All)]
public class EdgeDownloadTests
{
    private static readonly string[] Edges = ["us-east-1", "eu-west-1", "ap-southeast-1"];

    private static readonly CdnConfiguration Images = new()
    {
        Enabled = true,
        EdgeLocations = Edges,
        TimeToLive = TimeSpan.FromSeconds(7200),
        CustomDomain = "images.example.com",
    };

    private static async Task<TestStore> OpenImagesAsync(CdnConfiguration? cdn = null)
    {
        var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("images");
        await t.Store.SetCdnConfigurationAsync("images", cdn ?? Images);
        return t;
    }

    private static async Task<(BlobProperties Properties, byte[] Bytes)> ReadEdgeAsync(IBlobStore store, string edge, string name, BlobDownloadOptions? options = null)
    {
        await using var download = await store.DownloadFromEdgeAsync(edge, "images", name, options);
        var bytes = await Streams.ReadAllAsync(download.Content);
        bytes.Length.Should().Be((int)download.Length);
        return (download.Properties, bytes);
    }

    [Test]
    public async Task The_quickstart_demo_a_miss_then_a_hit_with_the_same_properties_and_bytes_as_a_direct_read()
    {
        await using var t = await OpenImagesAsync();
        var content = Streams.Bytes(300_000, 7); // several 64 KiB chunks
        await t.Store.UploadBytesAsync("images", "cats/tabby.jpg", content, new BlobUploadOptions { ContentType = "image/jpeg", Tags = new Dictionary<string, string> { ["kind"] = "cat" } });

        BlobProperties direct;
        await using (var download = await t.Store.DownloadAsync("images", "cats/tabby.jpg"))
        {
            direct = download.Properties;
            (await Streams.ReadAllAsync(download.Content)).Should().Equal(content);
        }

        var miss = await ReadEdgeAsync(t.Store, "us-east-1", "cats/tabby.jpg");
        var hit = await ReadEdgeAsync(t.Store, "us-east-1", "cats/tabby.jpg");
        miss.Bytes.Should().Equal(content);
        hit.Bytes.Should().Equal(content);

        // Every edge read counts as a download, as a direct read does; every other property is the same.
        miss.Properties.Should().BeEquivalentTo(direct with { AccessCount = 2 });
        hit.Properties.Should().BeEquivalentTo(direct with { AccessCount = 3 });

        var stats = t.Store.EdgeCache.GetStatistics();
        var edge = stats.Edges.Should().ContainSingle().Which;
        (edge.EdgeLocation, edge.Requests, edge.Hits, edge.Misses, edge.HitRatio).Should().Be(("us-east-1", 2L, 1L, 1L, 0.5));
        (edge.BlobsCached, edge.BytesCached, edge.BytesServed).Should().Be((1L, 300_000L, 300_000L));
        (await t.Store.GetPropertiesAsync("images", "cats/tabby.jpg")).AccessCount.Should().Be(3);
    }

    [Test]
    public async Task Ranges_and_conditions_behave_as_in_a_direct_read()
    {
        await using var t = await OpenImagesAsync();
        var content = Streams.Bytes(200_000, 8);
        var stored = await t.Store.UploadBytesAsync("images", "a.bin", content);
        await ReadEdgeAsync(t.Store, "eu-west-1", "a.bin");

        (await ReadEdgeAsync(t.Store, "eu-west-1", "a.bin", new BlobDownloadOptions { Range = new BlobRange(70_000, 1000) })).Bytes
            .Should().Equal(content.AsSpan(70_000, 1000).ToArray());
        (await ReadEdgeAsync(t.Store, "eu-west-1", "a.bin", new BlobDownloadOptions { Range = BlobRange.Last(10) })).Bytes
            .Should().Equal(content.AsSpan(200_000 - 10).ToArray());
        await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("eu-west-1", "images", "a.bin", new BlobDownloadOptions { Range = new BlobRange(200_000) }))
            .Should().ThrowAsync<InvalidRangeException>();
        await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("eu-west-1", "images", "a.bin", new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = stored.ETag } }))
            .Should().ThrowAsync<PreconditionFailedException>();
        t.Store.EdgeCache.GetStatistics().Total.OriginReads.Should().Be(1);
    }

    [Test]
    public async Task An_overwrite_a_metadata_change_and_a_delete_are_never_served_stale()
    {
        await using var t = await OpenImagesAsync();
        await t.Store.UploadBytesAsync("images", "a.bin", Streams.Bytes(1000, 1));
        foreach (var edge in Edges) (await ReadEdgeAsync(t.Store, edge, "a.bin")).Bytes.Should().Equal(Streams.Bytes(1000, 1));
        t.Store.EdgeCache.GetStatistics().Total.BlobsCached.Should().Be(3);

        await t.Store.UploadBytesAsync("images", "a.bin", Streams.Bytes(1000, 2));
        t.Store.EdgeCache.GetStatistics().Total.BlobsCached.Should().Be(0, "an overwrite drops every edge's copy");
        foreach (var edge in Edges) (await ReadEdgeAsync(t.Store, edge, "a.bin")).Bytes.Should().Equal(Streams.Bytes(1000, 2));

        var updated = await t.Store.UpdateMetadataAsync("images", "a.bin", new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["k"] = "v" } });
        t.Store.EdgeCache.GetStatistics().Total.BlobsCached.Should().Be(0, "a metadata change drops them too");
        var read = await ReadEdgeAsync(t.Store, "us-east-1", "a.bin");
        read.Properties.ETag.Should().Be(updated.ETag);
        read.Properties.Tags.Should().Contain("k", "v");

        await t.Store.DeleteAsync("images", "a.bin");
        t.Store.EdgeCache.GetStatistics().Total.BlobsCached.Should().Be(0);
        await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("us-east-1", "images", "a.bin")).Should().ThrowAsync<BlobNotFoundException>();
        t.Store.EdgeCache.GetStatistics().Total.Invalidations.Should().Be(7);
    }

    [Test]
    public async Task A_copy_onto_a_cached_name_and_a_container_delete_drop_the_copies()
    {
        await using var t = await OpenImagesAsync();
        await t.Store.UploadBytesAsync("images", "a.bin", Streams.Bytes(1000, 1));
        await t.Store.UploadBytesAsync("images", "b.bin", Streams.Bytes(1000, 2));
        await ReadEdgeAsync(t.Store, "us-east-1", "b.bin");
        await t.Store.CopyAsync("images", "a.bin", "images", "b.bin");
        (await ReadEdgeAsync(t.Store, "us-east-1", "b.bin")).Bytes.Should().Equal(Streams.Bytes(1000, 1));

        await t.Store.DeleteContainerAsync("images", deleteContents: true);
        t.Store.EdgeCache.GetStatistics().Total.BlobsCached.Should().Be(0);
        await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("us-east-1", "images", "b.bin")).Should().ThrowAsync<ContainerNotFoundException>();
    }

    [Test]
    public async Task A_copy_expires_with_the_containers_TTL_under_the_stores_clock()
    {
        await using var t = await OpenImagesAsync();
        await t.Store.UploadBytesAsync("images", "a.bin", Streams.Bytes(1000, 1));
        await ReadEdgeAsync(t.Store, "us-east-1", "a.bin");
        t.Time.Advance(TimeSpan.FromSeconds(7200) - TimeSpan.FromTicks(1));
        await ReadEdgeAsync(t.Store, "us-east-1", "a.bin");
        t.Time.Advance(TimeSpan.FromTicks(1));
        await ReadEdgeAsync(t.Store, "us-east-1", "a.bin");
        var stats = t.Store.EdgeCache.GetStatistics().Total;
        (stats.Hits, stats.Misses, stats.Evictions, stats.OriginReads).Should().Be((1L, 2L, 1L, 2L));
    }

    [Test]
    public async Task A_blob_over_the_cacheable_size_streams_from_the_store_and_is_not_kept()
    {
        await using var t = await OpenImagesAsync(new CdnConfiguration { Enabled = true, EdgeLocations = Edges, MaxCacheableSize = 100_000 });
        var content = Streams.Bytes(1_000_000, 4);
        await t.Store.UploadBytesAsync("images", "video.mp4", content);

        (await ReadEdgeAsync(t.Store, "us-east-1", "video.mp4")).Bytes.Should().Equal(content);
        (await ReadEdgeAsync(t.Store, "us-east-1", "video.mp4", new BlobDownloadOptions { Range = new BlobRange(500_000, 10) })).Bytes
            .Should().Equal(content.AsSpan(500_000, 10).ToArray());
        var stats = t.Store.EdgeCache.GetStatistics().Total;
        (stats.Misses, stats.OriginReads, stats.BlobsCached).Should().Be((2L, 2L, 0L));
    }

    [Test]
    public async Task Empty_and_small_inline_blobs_are_served_too()
    {
        await using var t = await OpenImagesAsync();
        await t.Store.UploadBytesAsync("images", "empty", []);
        await t.Store.UploadBytesAsync("images", "small", Streams.Bytes(10, 3));
        (await ReadEdgeAsync(t.Store, "us-east-1", "empty")).Bytes.Should().BeEmpty();
        (await ReadEdgeAsync(t.Store, "us-east-1", "empty")).Bytes.Should().BeEmpty();
        (await ReadEdgeAsync(t.Store, "us-east-1", "small")).Bytes.Should().Equal(Streams.Bytes(10, 3));
        (await ReadEdgeAsync(t.Store, "us-east-1", "small")).Bytes.Should().Equal(Streams.Bytes(10, 3));
        t.Store.EdgeCache.GetStatistics().Total.Hits.Should().Be(2);
    }

    [Test]
    public async Task Concurrent_first_reads_through_the_store_read_the_origin_once()
    {
        await using var t = await OpenImagesAsync();
        var content = Streams.Bytes(500_000, 6);
        await t.Store.UploadBytesAsync("images", "a.bin", content);
        var reads = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => ReadEdgeAsync(t.Store, "ap-southeast-1", "a.bin"))));
        reads.Should().AllSatisfy(r => r.Bytes.Should().Equal(content));
        var stats = t.Store.EdgeCache.GetStatistics().Total;
        stats.Requests.Should().Be(16);
        stats.OriginReads.Should().Be(1);
        (await t.Store.GetPropertiesAsync("images", "a.bin")).AccessCount.Should().Be(16, "each edge read is one download; the origin read is not counted");
    }

    [Test]
    public async Task Reads_at_edges_the_container_does_not_use_are_refused_with_a_code()
    {
        await using var t = await OpenImagesAsync(new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1"] });
        await t.Store.UploadBytesAsync("images", "a.bin", Streams.Bytes(10));
        await t.Store.CreateContainerAsync("plain");
        await t.Store.UploadBytesAsync("plain", "a.bin", Streams.Bytes(10));

        (await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("eu-west-1", "images", "a.bin")).Should().ThrowAsync<BlobStorageException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.CdnNotEnabled);
        (await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("us-east-1", "plain", "a.bin")).Should().ThrowAsync<BlobStorageException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.CdnNotEnabled);
        await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("Not an edge", "images", "a.bin")).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("us-east-1", "missing", "a.bin")).Should().ThrowAsync<ContainerNotFoundException>();

        // Turned off: refused at once, and what the edges held is gone.
        await ReadEdgeAsync(t.Store, "us-east-1", "a.bin");
        await t.Store.SetCdnConfigurationAsync("images", CdnConfiguration.Disabled);
        t.Store.EdgeCache.GetStatistics().Total.BlobsCached.Should().Be(0);
        (await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("us-east-1", "images", "a.bin")).Should().ThrowAsync<BlobStorageException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.CdnNotEnabled);
    }

    [Test]
    public async Task An_edge_outside_the_configured_list_is_unknown()
    {
        await using var t = await TestStore.OpenAsync(o => o.EdgeLocations.Add("us-east-1"));
        await t.Store.CreateContainerAsync("images");
        await t.Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1"] });
        await t.Store.UploadBytesAsync("images", "a.bin", Streams.Bytes(10));
        (await FluentActions.Awaiting(() => t.Store.DownloadFromEdgeAsync("eu-west-1", "images", "a.bin")).Should().ThrowAsync<BlobStorageException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.UnknownEdgeLocation);
        (await ReadEdgeAsync(t.Store, "us-east-1", "a.bin")).Bytes.Should().Equal(Streams.Bytes(10));
    }

    [Test]
    public async Task After_a_restart_the_configuration_still_serves_edges()
    {
        await using var t = await OpenImagesAsync();
        await t.Store.UploadBytesAsync("images", "a.bin", Streams.Bytes(1000));
        await t.ReopenAsync();
        (await ReadEdgeAsync(t.Store, "us-east-1", "a.bin")).Bytes.Should().Equal(Streams.Bytes(1000));
    }
}
