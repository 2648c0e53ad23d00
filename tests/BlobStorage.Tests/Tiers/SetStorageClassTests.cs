using BlobStorage.Abstractions;
using BlobStorage.Tests.Facade;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Tiers;

/// <summary>Moving one blob between classes, and a container's default class.</summary>
public sealed class SetStorageClassTests
{
    private const int Chunk = TestStore.ChunkSize;

    [Test]
    public async Task Moving_a_blob_rewrites_its_chunks_in_the_new_form_and_a_blob_sharing_a_chunk_stays_readable()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("docs");
        var shared = TierContent.Text(Chunk, seed: 1);
        var own = TierContent.Text(Chunk, seed: 2);
        var moving = shared.Concat(own).ToArray();
        var uploaded = await store.UploadAsync("docs", "moving.txt", new MemoryStream(moving));
        await store.UploadAsync("docs", "staying.txt", new MemoryStream(shared));
        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().AllBe("BSCHUNK2");

        var moved = await store.SetStorageClassAsync("docs", "moving.txt", StorageClass.Archive, new BlobRequestConditions { IfMatch = uploaded.ETag });

        moved.StorageClass.Should().Be(StorageClass.Archive);
        moved.ETag.Should().Be(uploaded.ETag);
        moved.LastModified.Should().Be(uploaded.LastModified);
        FacadeTestKit.ChunkFiles(test.RootPath).Should().HaveCount(2, "a class change writes no second copy of a chunk");
        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().AllBe("BSCHUNKZ");
        (await store.ReadAllAsync("docs", "staying.txt")).Should().Equal(shared);
        (await store.ReadAllAsync("docs", "moving.txt")).Should().Equal(moving);
        (await store.GetPropertiesAsync("docs", "staying.txt")).StorageClass.Should().Be(StorageClass.Standard);

        // Collection after the grace period takes nothing either blob needs.
        test.Time.Advance(TimeSpan.FromHours(1));
        (await store.RunMaintenanceAsync()).ChunksCollected.Should().Be(0);
        await store.DeleteAsync("docs", "moving.txt");
        test.Time.Advance(TimeSpan.FromHours(1));
        (await store.RunMaintenanceAsync()).ChunksCollected.Should().Be(1);
        (await store.ReadAllAsync("docs", "staying.txt")).Should().Equal(shared);
        (await store.VerifyAsync(verifyContent: true)).MissingChunks.Should().BeEmpty();

        await store.SetStorageClassAsync("docs", "staying.txt", StorageClass.InfrequentAccess);
        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().Equal("BSCHUNK2");
    }

    [Test]
    public async Task Moving_a_blob_to_ColdArchive_takes_it_offline_and_moving_it_out_asks_for_a_rehydration()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("docs");
        await store.UploadAsync("docs", "a.txt", new MemoryStream(TierContent.Text(Chunk)));

        (await store.SetStorageClassAsync("docs", "a.txt", StorageClass.ColdArchive)).StorageClass.Should().Be(StorageClass.ColdArchive);
        await FluentActions.Awaiting(() => store.DownloadAsync("docs", "a.txt")).Should().ThrowAsync<BlobArchivedException>();
        var leaving = await store.SetStorageClassAsync("docs", "a.txt", StorageClass.InfrequentAccess);

        leaving.StorageClass.Should().Be(StorageClass.ColdArchive);
        leaving.RehydratingTo.Should().Be(StorageClass.InfrequentAccess);
        await store.RunMaintenanceAsync();
        (await store.GetPropertiesAsync("docs", "a.txt")).StorageClass.Should().Be(StorageClass.InfrequentAccess);
    }

    [Test]
    public async Task A_failed_condition_an_undefined_class_or_a_missing_blob_changes_nothing()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("docs");
        var before = await store.UploadAsync("docs", "a.txt", new MemoryStream(TierContent.Text(Chunk)));
        var files = FacadeTestKit.ChunkFiles(test.RootPath).Select(f => (f, File.ReadAllBytes(f))).ToList();

        await FluentActions.Awaiting(() => store.SetStorageClassAsync("docs", "a.txt", StorageClass.Archive, new BlobRequestConditions { IfMatch = "\"other\"" })).Should().ThrowAsync<PreconditionFailedException>();
        (await FluentActions.Awaiting(() => store.SetStorageClassAsync("docs", "a.txt", (StorageClass)7)).Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("storageClass");
        await FluentActions.Awaiting(() => store.SetStorageClassAsync("docs", "b.txt", StorageClass.Archive)).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => store.SetStorageClassAsync("nodocs", "b.txt", StorageClass.Archive)).Should().ThrowAsync<ContainerNotFoundException>();

        (await store.GetPropertiesAsync("docs", "a.txt")).Should().BeEquivalentTo(before);
        FacadeTestKit.ChunkFiles(test.RootPath).Select(f => (f, File.ReadAllBytes(f))).Should().BeEquivalentTo(files);
    }

    [Test]
    public async Task A_containers_default_class_applies_to_new_uploads_only_and_survives_a_restart()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("docs");
        await test.Store.UploadAsync("docs", "before.txt", new MemoryStream(TierContent.Text(100)));

        var changed = await test.Store.SetContainerDefaultStorageClassAsync("docs", StorageClass.Archive);
        changed.DefaultStorageClass.Should().Be(StorageClass.Archive);
        (await test.Store.UploadAsync("docs", "after.txt", new MemoryStream(TierContent.Text(100)))).StorageClass.Should().Be(StorageClass.Archive);
        (await test.Store.GetPropertiesAsync("docs", "before.txt")).StorageClass.Should().Be(StorageClass.Standard);

        await test.ReopenAsync();
        (await test.Store.GetContainerAsync("docs")).DefaultStorageClass.Should().Be(StorageClass.Archive);
        (await test.Store.UploadAsync("docs", "later.txt", new MemoryStream(TierContent.Text(100)))).StorageClass.Should().Be(StorageClass.Archive);
        await FluentActions.Awaiting(() => test.Store.SetContainerDefaultStorageClassAsync("nodocs", StorageClass.Archive)).Should().ThrowAsync<ContainerNotFoundException>();
        (await FluentActions.Awaiting(() => test.Store.SetContainerDefaultStorageClassAsync("docs", (StorageClass)5)).Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("storageClass");
    }
}
