using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class RestartTests
{
    private const int Chunk = TestStore.ChunkSize;

    [Test]
    public async Task Containers_blobs_tags_metadata_and_statistics_survive_a_reopen()
    {
        await using var t = await TestStore.OpenAsync();
        var store = t.Store;
        var archive = await store.CreateContainerAsync("archive", new ContainerOptions
        {
            DefaultStorageClass = StorageClass.Archive,
            ReplicationStrategy = ReplicationStrategy.Single,
            AccessPolicy = AccessPolicy.Public,
        });
        var plain = await store.CreateContainerAsync("plain");
        var big = Streams.Bytes(3 * Chunk + 77, seed: 1);
        var small = Streams.Bytes(12, seed: 2);
        var bigProps = await store.UploadBytesAsync("archive", "dir/big.bin", big, new BlobUploadOptions
        {
            ContentType = "application/x-big",
            Tags = FacadeTestKit.Map(("owner", "ann"), ("k", "")),
            Metadata = FacadeTestKit.Map(("Source", "camera"), ("Note", "caf\u00E9 \U0001F600")),
        });
        t.Time.Advance(TimeSpan.FromMinutes(1));
        await store.UploadBytesAsync("plain", "gone", small);
        await store.UploadBytesAsync("plain", "over", small);
        var overProps = await store.UploadBytesAsync("plain", "over", big, new BlobUploadOptions { StorageClass = StorageClass.Archive });
        var copyProps = await store.CopyAsync("archive", "dir/big.bin", "plain", "copy");
        var updated = await store.UpdateMetadataAsync("plain", "copy", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("copied", "yes")) });
        await store.DeleteAsync("plain", "gone");
        await store.DownloadBytesAsync("archive", "dir/big.bin");
        var containersBefore = await store.AllContainersAsync();
        var statsBefore = await store.GetStatisticsAsync();
        var bigBefore = await store.GetPropertiesAsync("archive", "dir/big.bin");

        await t.ReopenAsync();
        store = t.Store;

        (await store.AllContainersAsync()).Should().BeEquivalentTo(containersBefore, o => o.WithStrictOrdering());
        (await store.GetContainerAsync("archive")).Should().BeEquivalentTo(archive);
        (await store.GetContainerAsync("plain")).Should().BeEquivalentTo(plain);
        (await store.AllNamesAsync("archive")).Should().Equal("dir/big.bin");
        (await store.AllNamesAsync("plain")).Should().Equal("copy", "over");

        var bigAfter = await store.GetPropertiesAsync("archive", "dir/big.bin");
        bigAfter.Should().BeEquivalentTo(bigBefore);
        bigAfter.ETag.Should().Be(bigProps.ETag);
        bigAfter.VersionId.Should().Be(bigProps.VersionId);
        bigAfter.StorageClass.Should().Be(StorageClass.Archive);
        bigAfter.Metadata.Should().BeEquivalentTo(bigProps.Metadata);
        bigAfter.AccessCount.Should().Be(1);
        (await store.GetPropertiesAsync("plain", "over")).Should().BeEquivalentTo(overProps);
        (await store.GetPropertiesAsync("plain", "copy")).Should().BeEquivalentTo(updated);
        (await store.GetPropertiesAsync("plain", "copy")).ContentHash.Should().Be(copyProps.ContentHash);
        await FluentActions.Awaiting(() => store.GetPropertiesAsync("plain", "gone")).Should().ThrowAsync<BlobNotFoundException>();

        (await store.DownloadBytesAsync("archive", "dir/big.bin")).Should().Equal(big);
        (await store.DownloadBytesAsync("plain", "over")).Should().Equal(big);
        (await store.DownloadBytesAsync("plain", "copy")).Should().Equal(big);

        var statsAfter = await store.GetStatisticsAsync();
        statsAfter.Should().BeEquivalentTo(statsBefore, o => o.Excluding(s => s.ReadOperations).Excluding(s => s.BytesRead).Excluding(s => s.AverageReadSize));
        statsAfter.ReadOperations.Should().Be(statsBefore.ReadOperations + 3);
        (await store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task A_store_reopened_many_times_keeps_working()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        for (var i = 0; i < 3; i++)
        {
            await t.Store.UploadBytesAsync("data", $"b{i}", Streams.Bytes(100 + i, seed: i));
            await t.ReopenAsync();
        }

        (await t.Store.AllNamesAsync("data")).Should().Equal("b0", "b1", "b2");
        for (var i = 0; i < 3; i++) (await t.Store.DownloadBytesAsync("data", $"b{i}")).Should().Equal(Streams.Bytes(100 + i, seed: i));
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(3);
    }

    [Test]
    public async Task A_continuation_token_stays_valid_across_a_reopen()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        foreach (var name in new[] { "a", "b", "c", "d" }) await t.Store.UploadBytesAsync("data", name, [1]);
        var token = (await t.Store.ListAsync("data", new BlobListOptions { PageSize = 2 })).ContinuationToken;

        await t.ReopenAsync();

        (await t.Store.ListAsync("data", new BlobListOptions { PageSize = 2, ContinuationToken = token })).Blobs.Select(b => b.Name).Should().Equal("c", "d");
    }

    [Test]
    public async Task A_second_store_on_the_same_folder_is_refused_while_the_first_is_open()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        var second = () => new BlobStoreBuilder(t.RootPath).Configure(o => o.ChunkSize = TestStore.ChunkSize).OpenAsync();

        var thrown = await FluentActions.Awaiting(second).Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        (await t.Store.GetContainerAsync("data")).Name.Should().Be("data", "the first store is unharmed");
    }
}
