using System.Net;
using BlobStorage.Abstractions;
using BlobStorage.Tests.AspNetCore;
using BlobStorage.Tests.Facade;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Tiers;

/// <summary>ColdArchive is offline, as Azure's archive tier: no reads until a rehydration, completed by a maintenance pass.</summary>
public sealed class ColdArchiveTests
{
    private const int Chunk = TestStore.ChunkSize;

    [Test]
    public async Task A_ColdArchive_blob_refuses_reads_until_a_maintenance_pass_completes_its_rehydration()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("vault");
        var content = TierContent.Text((2 * Chunk) + 100);
        var uploaded = await store.UploadAsync("vault", "ledger.txt", new MemoryStream(content), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });

        var refused = await FluentActions.Awaiting(() => store.DownloadAsync("vault", "ledger.txt")).Should().ThrowAsync<BlobArchivedException>();
        refused.Which.ErrorCode.Should().Be(BlobErrorCode.BlobArchived);
        refused.Which.RehydratingTo.Should().BeNull();
        refused.Which.Message.Should().Contain("RehydrateAsync");
        await FluentActions.Awaiting(() => store.DownloadAsync("vault", "ledger.txt", new BlobDownloadOptions { Range = new BlobRange(0, 10) })).Should().ThrowAsync<BlobArchivedException>();
        await FluentActions.Awaiting(() => store.CopyAsync("vault", "ledger.txt", "vault", "copy.txt")).Should().ThrowAsync<BlobArchivedException>();
        (await store.AllNamesAsync("vault")).Should().Equal("ledger.txt");

        var requested = await store.RehydrateAsync("vault", "ledger.txt", StorageClass.Standard);
        requested.StorageClass.Should().Be(StorageClass.ColdArchive);
        requested.RehydratingTo.Should().Be(StorageClass.Standard);
        requested.ETag.Should().Be(uploaded.ETag);
        (await store.GetPropertiesAsync("vault", "ledger.txt")).RehydratingTo.Should().Be(StorageClass.Standard);
        (await store.ListAsync("vault")).Blobs.Single().RehydratingTo.Should().Be(StorageClass.Standard);
        var stillRefused = await FluentActions.Awaiting(() => store.DownloadAsync("vault", "ledger.txt")).Should().ThrowAsync<BlobArchivedException>();
        stillRefused.Which.RehydratingTo.Should().Be(StorageClass.Standard);

        var report = await store.RunMaintenanceAsync();

        report.BlobsRehydrated.Should().Be(1);
        var online = await store.GetPropertiesAsync("vault", "ledger.txt");
        online.StorageClass.Should().Be(StorageClass.Standard);
        online.RehydratingTo.Should().BeNull();
        online.ETag.Should().Be(uploaded.ETag, "a change of class is not a change of content or metadata");
        online.LastModified.Should().Be(uploaded.LastModified);
        (await store.ReadAllAsync("vault", "ledger.txt")).Should().Equal(content);
        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().AllBe("BSCHUNK2", "a Standard blob's chunks are rewritten raw");
        (await store.RunMaintenanceAsync()).BlobsRehydrated.Should().Be(0);
    }

    [Test]
    public async Task Properties_metadata_updates_and_deletes_still_work_on_an_archived_blob()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("vault");
        await store.UploadAsync("vault", "a", new MemoryStream(TierContent.Text(Chunk)), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });
        await store.UploadAsync("vault", "small", new MemoryStream([1, 2, 3]), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });

        var updated = await store.UpdateMetadataAsync("vault", "a", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("retention", "7y")) });
        updated.Tags.Should().ContainKey("retention");
        updated.StorageClass.Should().Be(StorageClass.ColdArchive);
        await FluentActions.Awaiting(() => store.DownloadAsync("vault", "small")).Should().ThrowAsync<BlobArchivedException>("small blobs kept inline are offline too");
        await store.DeleteAsync("vault", "a");
        (await store.AllNamesAsync("vault")).Should().Equal("small");
    }

    [Test]
    public async Task Rehydration_to_ColdArchive_or_an_undefined_class_is_refused_and_changes_nothing()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("vault");
        var before = await store.UploadAsync("vault", "a", new MemoryStream(TierContent.Text(100)), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });

        (await FluentActions.Awaiting(() => store.RehydrateAsync("vault", "a", StorageClass.ColdArchive)).Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("targetClass");
        (await FluentActions.Awaiting(() => store.RehydrateAsync("vault", "a", (StorageClass)9)).Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("targetClass");
        await FluentActions.Awaiting(() => store.RehydrateAsync("vault", "missing", StorageClass.Standard)).Should().ThrowAsync<BlobNotFoundException>();
        (await store.GetPropertiesAsync("vault", "a")).Should().BeEquivalentTo(before);
    }

    [Test]
    public async Task An_upload_over_a_blob_pending_rehydration_cancels_the_rehydration()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("vault");
        await store.UploadAsync("vault", "a", new MemoryStream(TierContent.Text(100)), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });
        await store.RehydrateAsync("vault", "a", StorageClass.Archive);
        await store.UploadAsync("vault", "a", new MemoryStream(TierContent.Text(200)), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });

        (await store.RunMaintenanceAsync()).BlobsRehydrated.Should().Be(0);
        var properties = await store.GetPropertiesAsync("vault", "a");
        properties.StorageClass.Should().Be(StorageClass.ColdArchive);
        properties.RehydratingTo.Should().BeNull();
    }

    [Test]
    public async Task An_edge_refuses_an_archived_blob_it_held_before_the_blob_went_offline()
    {
        await using var test = await TestStore.OpenAsync(o => o.EdgeLocations.Add("eu-west-1"));
        var store = test.Store;
        await store.CreateContainerAsync("images");
        await store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, EdgeLocations = ["eu-west-1"], TimeToLive = TimeSpan.FromHours(1) });
        var content = TierContent.Random(5000);
        await store.UploadAsync("images", "cat.png", new MemoryStream(content));
        await using (var first = await store.DownloadFromEdgeAsync("eu-west-1", "images", "cat.png"))
        {
            var copy = new MemoryStream();
            await first.Content.CopyToAsync(copy);
            copy.ToArray().Should().Equal(content);
        }

        await store.SetStorageClassAsync("images", "cat.png", StorageClass.ColdArchive);

        await FluentActions.Awaiting(() => store.DownloadFromEdgeAsync("eu-west-1", "images", "cat.png")).Should().ThrowAsync<BlobArchivedException>();
    }

    [Test]
    public async Task Over_HTTP_an_archived_blob_answers_409_with_the_BlobArchived_code()
    {
        await using var host = await HttpTestHost.StartAsync();
        await host.Store.CreateContainerAsync("images", new ContainerOptions { AccessPolicy = AccessPolicy.Public });
        await host.Store.UploadAsync("images", "old.png", new MemoryStream(TierContent.Random(3000)), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });

        using var response = await host.Client.GetAsync("/blobs/images/old.png");

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.Content.ReadAsStringAsync()).Should().Contain("BlobArchived");
        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/blobs/images/old.png"));
        head.StatusCode.Should().Be(HttpStatusCode.OK, "its properties stay available");
    }
}
