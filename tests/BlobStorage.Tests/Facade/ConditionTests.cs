using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class ConditionTests
{
    private static readonly byte[] First = Streams.Bytes(300, seed: 1);
    private static readonly byte[] Second = Streams.Bytes(TestStore.ChunkSize + 5, seed: 2);

    private static async Task<BlobProperties> SeedAsync(TestStore t)
    {
        await t.Store.CreateContainerAsync("data");
        return await t.Store.UploadBytesAsync("data", "blob", First);
    }

    [Test]
    public async Task IfNoneMatch_star_creates_only_once_and_keeps_the_first_content()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        var created = await t.Store.UploadBytesAsync("data", "blob", First, new BlobUploadOptions { Conditions = BlobRequestConditions.CreateOnly });
        var thrown = await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", Second, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = "*" } }))
            .Should().ThrowAsync<PreconditionFailedException>();

        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.ConditionNotMet);
        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(created);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(First);
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(1);

        await t.Store.RunMaintenanceAsync();
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue("the chunks of the refused upload are removed");
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty("the first content is small enough to be kept inline, and the refused upload's chunks are gone");
    }

    [Test]
    public async Task Concurrent_create_only_uploads_let_exactly_one_win()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var contents = Enumerable.Range(0, 8).Select(i => Streams.Bytes(1000 + i, seed: 100 + i)).ToArray();

        var attempts = contents.Select(c => Task.Run(async () =>
        {
            try
            {
                await t.Store.UploadBytesAsync("data", "race", c, new BlobUploadOptions { Conditions = BlobRequestConditions.CreateOnly });
                return c;
            }
            catch (PreconditionFailedException)
            {
                return null;
            }
        })).ToArray();
        var results = await Task.WhenAll(attempts);

        var winners = results.Where(r => r is not null).ToList();
        winners.Should().ContainSingle();
        (await t.Store.DownloadBytesAsync("data", "race")).Should().Equal(winners[0]);
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(1);
    }

    [Test]
    public async Task IfMatch_with_the_current_ETag_overwrites()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);

        var over = await t.Store.UploadBytesAsync("data", "blob", Second, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = blob.ETag } });

        over.ETag.Should().NotBe(blob.ETag);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(Second);
    }

    [Test]
    public async Task IfMatch_accepts_the_ETag_without_its_quotes_and_the_wildcard()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);

        var over = await t.Store.UploadBytesAsync("data", "blob", Second, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = blob.ETag.Trim('"') } });
        await t.Store.UploadBytesAsync("data", "blob", First, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = "*" } });

        over.ETag.Should().NotBe(blob.ETag);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(First);
    }

    [Test]
    public async Task IfMatch_with_a_stale_ETag_fails_and_changes_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);
        var current = await t.Store.UploadBytesAsync("data", "blob", Second);

        var thrown = await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", First, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = blob.ETag } }))
            .Should().ThrowAsync<PreconditionFailedException>();

        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.ConditionNotMet);
        thrown.Which.Message.Should().Contain(blob.ETag).And.Contain(current.ETag);
        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(current);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(Second);
    }

    [Test]
    public async Task IfMatch_on_a_missing_blob_fails_and_creates_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", First, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = "\"0x1234\"" } }))
            .Should().ThrowAsync<PreconditionFailedException>();
        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", First, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = "*" } }))
            .Should().ThrowAsync<PreconditionFailedException>("IfMatch * requires the blob to exist");

        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("data", "blob")).Should().ThrowAsync<BlobNotFoundException>();
    }

    [Test]
    public async Task IfNoneMatch_with_an_ETag_overwrites_only_when_it_differs()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);

        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", Second, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = blob.ETag } }))
            .Should().ThrowAsync<PreconditionFailedException>();
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(First);

        await t.Store.UploadBytesAsync("data", "blob", Second, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = "\"0xother\"" } });
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(Second);
    }

    [Test]
    public async Task Delete_with_IfMatch_deletes_only_the_version_it_names()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);
        var current = await t.Store.UploadBytesAsync("data", "blob", Second);

        await FluentActions.Awaiting(() => t.Store.DeleteAsync("data", "blob", new BlobRequestConditions { IfMatch = blob.ETag }))
            .Should().ThrowAsync<PreconditionFailedException>();
        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(current);
        (await t.Store.GetStatisticsAsync()).DeleteOperations.Should().Be(0);

        await t.Store.DeleteAsync("data", "blob", new BlobRequestConditions { IfMatch = current.ETag });
        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("data", "blob")).Should().ThrowAsync<BlobNotFoundException>();
        (await t.Store.GetStatisticsAsync()).DeleteOperations.Should().Be(1);
    }

    [Test]
    public async Task Delete_with_IfUnmodifiedSince_before_the_last_change_fails()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);

        await FluentActions.Awaiting(() => t.Store.DeleteAsync("data", "blob", new BlobRequestConditions { IfUnmodifiedSince = blob.LastModified - TimeSpan.FromSeconds(1) }))
            .Should().ThrowAsync<PreconditionFailedException>();
        await t.Store.DeleteAsync("data", "blob", new BlobRequestConditions { IfUnmodifiedSince = blob.LastModified });
        (await t.Store.AllNamesAsync("data")).Should().BeEmpty();
    }

    [Test]
    public async Task Download_with_IfMatch_and_IfNoneMatch()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);

        (await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfMatch = blob.ETag }))).Should().Equal(First);
        (await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfNoneMatch = "\"0xnot-it\"" }))).Should().Equal(First);

        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfMatch = "\"0xnot-it\"" })))
            .Should().ThrowAsync<PreconditionFailedException>();
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfNoneMatch = blob.ETag })))
            .Should().ThrowAsync<PreconditionFailedException>();
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfNoneMatch = "*" })))
            .Should().ThrowAsync<PreconditionFailedException>();

        var stats = await t.Store.GetStatisticsAsync();
        stats.ReadOperations.Should().Be(2, "a download refused by a condition is not a read");
        (await t.Store.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(2);
    }

    [Test]
    public async Task Download_with_modified_since_conditions_follows_the_clock()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);
        var modified = blob.LastModified;

        (await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfModifiedSince = modified - TimeSpan.FromSeconds(1) }))).Should().Equal(First);
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfModifiedSince = modified })))
            .Should().ThrowAsync<PreconditionFailedException>();
        (await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfUnmodifiedSince = modified }))).Should().Equal(First);
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfUnmodifiedSince = modified - TimeSpan.FromSeconds(1) })))
            .Should().ThrowAsync<PreconditionFailedException>();

        t.Time.Advance(TimeSpan.FromHours(1));
        var newer = await t.Store.UploadBytesAsync("data", "blob", Second);
        newer.LastModified.Should().Be(modified + TimeSpan.FromHours(1));

        (await t.Store.DownloadBytesAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfModifiedSince = modified }))).Should().Equal(Second);
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob", FacadeTestKit.When(new BlobRequestConditions { IfUnmodifiedSince = modified })))
            .Should().ThrowAsync<PreconditionFailedException>();
    }

    [Test]
    public async Task Upload_with_IfUnmodifiedSince_protects_against_a_newer_write()
    {
        await using var t = await TestStore.OpenAsync();
        var blob = await SeedAsync(t);
        var seenAt = blob.LastModified;
        t.Time.Advance(TimeSpan.FromMinutes(5));
        var other = await t.Store.UploadBytesAsync("data", "blob", Second);

        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", First, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfUnmodifiedSince = seenAt } }))
            .Should().ThrowAsync<PreconditionFailedException>();
        (await t.Store.GetPropertiesAsync("data", "blob")).ETag.Should().Be(other.ETag);

        await t.Store.UploadBytesAsync("data", "blob", First, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfUnmodifiedSince = other.LastModified } });
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(First);
    }

    [Test]
    public async Task Conditions_on_a_missing_blob_download_report_BlobNotFound()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "missing", FacadeTestKit.When(new BlobRequestConditions { IfMatch = "*" })))
            .Should().ThrowAsync<BlobNotFoundException>();
    }
}
