using BlobStorage.Abstractions;
using BlobStorage.EdgeCache;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.EdgeCache;

[Parallelizable(ParallelScope.All)]
public class EdgeCacheRegistrationTests
{
    [Test]
    public async Task AddBlobStorage_registers_the_memory_edge_cache_the_store_uses()
    {
        using var folder = new TempFolder("edge-di");
        var services = new ServiceCollection();
        services.AddBlobStorage(o => o.RootPath = folder.Path);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        var cache = provider.GetRequiredService<IEdgeCache>();
        cache.Should().BeOfType<MemoryEdgeCache>();
        provider.GetRequiredService<IBlobStore>().EdgeCache.Should().BeSameAs(cache);
    }

    [Test]
    public async Task An_edge_cache_registered_before_wins_and_serves_the_stores_edge_reads()
    {
        using var folder = new TempFolder("edge-di");
        using var mine = new MemoryEdgeCache(1 << 20, new FakeTimeProvider());
        var services = new ServiceCollection();
        services.AddSingleton<IEdgeCache>(mine);
        services.AddBlobStorage(o => o.RootPath = folder.Path);
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IBlobStore>();
        store.EdgeCache.Should().BeSameAs(mine);
        await store.CreateContainerAsync("images");
        await store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1"] });
        await store.UploadBytesAsync("images", "a", Streams.Bytes(100));
        await using (var download = await store.DownloadFromEdgeAsync("us-east-1", "images", "a")) await Streams.ReadAllAsync(download.Content);
        mine.GetStatistics().Total.Requests.Should().Be(1);
    }

    [Test]
    public async Task The_builder_uses_a_given_edge_cache_and_leaves_it_to_its_owner()
    {
        using var folder = new TempFolder("edge-builder");
        using var mine = new MemoryEdgeCache(1 << 20, new FakeTimeProvider());
        await using (var store = await new BlobStoreBuilder(folder.Path).UseEdgeCache(mine).OpenAsync())
        {
            store.EdgeCache.Should().BeSameAs(mine);
            await store.CreateContainerAsync("images");
            await store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1"] });
            await store.UploadBytesAsync("images", "a", Streams.Bytes(100));
            await using var download = await store.DownloadFromEdgeAsync("us-east-1", "images", "a");
            (await Streams.ReadAllAsync(download.Content)).Should().Equal(Streams.Bytes(100));
        }

        // Still usable after the store is gone: the builder did not dispose it.
        mine.GetStatistics().Total.BlobsCached.Should().Be(1);
        mine.Metrics.Meter.Name.Should().Be("BlobStorage");
    }

    [Test]
    public async Task A_non_positive_capacity_fails_the_options_naming_the_setting()
    {
        using var folder = new TempFolder("edge-builder");
        var act = () => new BlobStoreBuilder(folder.Path).Configure(o => o.EdgeCacheCapacity = 0).OpenAsync();
        (await act.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>()).Which.Message.Should().Contain("EdgeCacheCapacity");
    }
}
