using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class DeduplicationTests
{
    private const int Chunk = TestStore.ChunkSize;

    [Test]
    public async Task Same_content_under_two_names_is_stored_once()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("one");
        await t.Store.CreateContainerAsync("two");
        var content = Streams.Bytes(2 * Chunk + 50, seed: 1);

        var a = await t.Store.UploadBytesAsync("one", "a", content);
        var b = await t.Store.UploadBytesAsync("two", "b", content);

        a.ContentHash.Should().Be(b.ContentHash);
        var stats = await t.Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(2);
        stats.TotalBytes.Should().Be(2L * content.Length);
        stats.StoredBytes.Should().Be(content.Length);
        stats.ChunkCount.Should().Be(3);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount(3);
        (await t.Store.DownloadBytesAsync("two", "b")).Should().Equal(content);
    }

    [Test]
    public async Task Repeated_chunks_inside_one_blob_are_stored_once_and_read_back_in_order()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var piece = Streams.Bytes(Chunk, seed: 2);
        var tail = Streams.Bytes(10, seed: 3);
        byte[] content = [.. piece, .. piece, .. piece, .. tail];

        await t.Store.UploadBytesAsync("data", "repeats", content);

        (await t.Store.DownloadBytesAsync("data", "repeats")).Should().Equal(content);
        var stats = await t.Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(Chunk + 10);
        stats.ChunkCount.Should().Be(2);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();

        // Releasing a chunk listed three times releases all three references.
        await t.Store.DeleteAsync("data", "repeats");
        t.Time.Advance(TimeSpan.FromMinutes(15));
        var report = await t.Store.RunMaintenanceAsync();
        report.ChunksCollected.Should().Be(2);
        report.BytesReclaimed.Should().Be(Chunk + 10);
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
    }

    [Test]
    public async Task Copy_shares_the_chunks_and_keeps_the_properties()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("src");
        await t.Store.CreateContainerAsync("dst");
        var content = Streams.Bytes(Chunk + 1, seed: 4);
        var source = await t.Store.UploadBytesAsync("src", "a", content, new BlobUploadOptions
        {
            ContentType = "image/png",
            StorageClass = StorageClass.InfrequentAccess,
            Tags = FacadeTestKit.Map(("k", "v")),
            Metadata = FacadeTestKit.Map(("m", "n")),
        });
        var storedBefore = (await t.Store.GetStatisticsAsync()).StoredBytes;
        t.Time.Advance(TimeSpan.FromMinutes(1));

        var copy = await t.Store.CopyAsync("src", "a", "dst", "copied");

        copy.Container.Should().Be("dst");
        copy.Name.Should().Be("copied");
        copy.Size.Should().Be(source.Size);
        copy.ContentHash.Should().Be(source.ContentHash);
        copy.ContentType.Should().Be("image/png");
        copy.StorageClass.Should().Be(StorageClass.InfrequentAccess);
        copy.Tags.Should().BeEquivalentTo(source.Tags);
        copy.Metadata.Should().BeEquivalentTo(source.Metadata);
        copy.ETag.Should().NotBe(source.ETag);
        copy.VersionId.Should().NotBe(source.VersionId);
        copy.CreatedOn.Should().Be(t.Time.GetUtcNow());
        copy.LastModified.Should().Be(t.Time.GetUtcNow());
        copy.AccessCount.Should().Be(0);
        (await t.Store.GetPropertiesAsync("dst", "copied")).Should().BeEquivalentTo(copy);
        (await t.Store.DownloadBytesAsync("dst", "copied")).Should().Equal(content);

        var stats = await t.Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(storedBefore, "a copy writes no bytes");
        stats.TotalBlobs.Should().Be(2);
        stats.TotalBytes.Should().Be(2L * content.Length);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount(2);
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Copy_with_overrides()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", [1, 2, 3], new BlobUploadOptions { Tags = FacadeTestKit.Map(("old", "1")), Metadata = FacadeTestKit.Map(("old", "1")) });

        var copy = await t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions
        {
            ContentType = "text/csv",
            StorageClass = StorageClass.ColdArchive,
            Tags = FacadeTestKit.Map(("new", "2")),
            Metadata = FacadeTestKit.Map(("fresh", "3")),
        });

        copy.ContentType.Should().Be("text/csv");
        copy.StorageClass.Should().Be(StorageClass.ColdArchive);
        copy.Tags.Should().BeEquivalentTo(FacadeTestKit.Map(("new", "2")));
        copy.Metadata.Should().BeEquivalentTo(FacadeTestKit.Map(("fresh", "3")));
        (await t.Store.GetPropertiesAsync("data", "b")).Should().BeEquivalentTo(copy);
        var source = await t.Store.GetPropertiesAsync("data", "a");
        source.Tags.Should().BeEquivalentTo(FacadeTestKit.Map(("old", "1")), "the source is untouched");
        source.ContentType.Should().Be("application/octet-stream");
    }

    [Test]
    public async Task Copy_with_bad_overrides_throws_ArgumentException_and_creates_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", [1]);

        var tooMany = Enumerable.Range(0, 11).ToDictionary(i => $"k{i}", i => "v");
        await FluentActions.Awaiting(() => t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions { Tags = tooMany }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*at most 10 tags*");
        await FluentActions.Awaiting(() => t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions { Metadata = FacadeTestKit.Map(("not-an-identifier", "v")) }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*identifier*");
        await FluentActions.Awaiting(() => t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions { StorageClass = (StorageClass)9 }))
            .Should().ThrowAsync<ArgumentException>();

        (await t.Store.AllNamesAsync("data")).Should().Equal("a");
    }

    [Test]
    public async Task Copy_onto_an_existing_blob_with_IfNoneMatch_star_fails_and_keeps_the_destination()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", [1, 2, 3]);
        var existing = await t.Store.UploadBytesAsync("data", "b", [4, 5, 6]);

        await FluentActions.Awaiting(() => t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions { DestinationConditions = BlobRequestConditions.CreateOnly }))
            .Should().ThrowAsync<PreconditionFailedException>();

        (await t.Store.GetPropertiesAsync("data", "b")).Should().BeEquivalentTo(existing);
        (await t.Store.DownloadBytesAsync("data", "b")).Should().Equal(4, 5, 6);
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(2);
    }

    [Test]
    public async Task Copy_onto_an_existing_blob_replaces_it()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", [1, 2, 3]);
        var existing = await t.Store.UploadBytesAsync("data", "b", Streams.Bytes(Chunk + 3, seed: 5));
        t.Time.Advance(TimeSpan.FromSeconds(10));

        var copy = await t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions { DestinationConditions = new BlobRequestConditions { IfMatch = existing.ETag } });

        copy.CreatedOn.Should().Be(existing.CreatedOn, "the destination blob existed");
        (await t.Store.DownloadBytesAsync("data", "b")).Should().Equal(1, 2, 3);
        var stats = await t.Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(2);
        stats.TotalBytes.Should().Be(6);
        stats.StoredBytes.Should().Be(3);
        stats.Containers.Should().ContainSingle().Which.Should().Be(new ContainerStatistics("data", 2, 6));
    }

    [Test]
    public async Task Copy_source_conditions_are_checked()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var source = await t.Store.UploadBytesAsync("data", "a", [1]);

        await FluentActions.Awaiting(() => t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions { SourceConditions = new BlobRequestConditions { IfMatch = "\"0xstale\"" } }))
            .Should().ThrowAsync<PreconditionFailedException>();
        (await t.Store.AllNamesAsync("data")).Should().Equal("a");

        await t.Store.CopyAsync("data", "a", "data", "b", new BlobCopyOptions { SourceConditions = new BlobRequestConditions { IfMatch = source.ETag } });
        (await t.Store.AllNamesAsync("data")).Should().Equal("a", "b");
    }

    [Test]
    public async Task Copy_of_a_missing_source_or_into_a_missing_container_throws_not_found()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", [1]);

        var thrown = await FluentActions.Awaiting(() => t.Store.CopyAsync("data", "missing", "data", "b")).Should().ThrowAsync<BlobNotFoundException>();
        thrown.Which.Name.Should().Be("missing");
        await FluentActions.Awaiting(() => t.Store.CopyAsync("nope", "a", "data", "b")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.CopyAsync("data", "a", "nope", "b")).Should().ThrowAsync<ContainerNotFoundException>();

        (await t.Store.AllNamesAsync("data")).Should().Equal("a");
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(1);
    }

    [Test]
    public async Task Copy_survives_the_deletion_of_its_source_and_garbage_collection()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(2 * Chunk + 9, seed: 6);
        await t.Store.UploadBytesAsync("data", "source", content);
        await t.Store.CopyAsync("data", "source", "data", "copy");

        await t.Store.DeleteAsync("data", "source");
        t.Time.Advance(TimeSpan.FromHours(1));
        var report = await t.Store.RunMaintenanceAsync();

        report.ChunksCollected.Should().Be(0, "the copy still refers to every chunk");
        (await t.Store.DownloadBytesAsync("data", "copy")).Should().Equal(content);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(content.Length);
    }

    [Test]
    public async Task Copy_onto_itself_changes_properties_and_keeps_content_and_counts()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(Chunk + 2, seed: 7);
        var original = await t.Store.UploadBytesAsync("data", "self", content);

        var copy = await t.Store.CopyAsync("data", "self", "data", "self", new BlobCopyOptions { ContentType = "text/plain" });

        copy.ContentType.Should().Be("text/plain");
        copy.ETag.Should().NotBe(original.ETag);
        (await t.Store.DownloadBytesAsync("data", "self")).Should().Equal(content);
        var stats = await t.Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(content.Length);
        stats.StoredBytes.Should().Be(content.Length);
        var verify = await t.Store.VerifyAsync();
        verify.IsClean.Should().BeTrue();
        verify.ChunksAwaitingCollection.Should().Be(0);
        t.Time.Advance(TimeSpan.FromHours(1));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(0);
        (await t.Store.DownloadBytesAsync("data", "self")).Should().Equal(content);
    }

    [Test]
    public async Task Reuploading_content_during_its_grace_period_revives_its_chunks()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(Chunk + 20, seed: 8);
        await t.Store.UploadBytesAsync("data", "a", content);
        await t.Store.DeleteAsync("data", "a");
        t.Time.Advance(TimeSpan.FromMinutes(10));

        await t.Store.UploadBytesAsync("data", "b", content);
        t.Time.Advance(TimeSpan.FromMinutes(10));
        var report = await t.Store.RunMaintenanceAsync();

        report.ChunksCollected.Should().Be(0);
        (await t.Store.DownloadBytesAsync("data", "b")).Should().Equal(content);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(content.Length);
    }
}
