using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests;

/// <summary>One pass through the whole engine, as the quickstart uses it.</summary>
public class EndToEndTests
{
    [Test]
    public async Task Upload_download_list_overwrite_delete_and_collect()
    {
        await using var t = await TestStore.OpenAsync();
        var store = t.Store;
        await store.CreateContainerAsync("photos");
        var big = Streams.Bytes(3 * TestStore.ChunkSize + 123, seed: 7);
        var small = Streams.Bytes(100, seed: 8);

        var p1 = await store.UploadBytesAsync("photos", "2026/a.bin", big, new BlobUploadOptions { ContentType = "image/png", Tags = new Dictionary<string, string> { ["k"] = "v" } });
        p1.ContentHash.Should().Be(Streams.Sha256(big));
        p1.Size.Should().Be(big.Length);
        var p2 = await store.UploadBytesAsync("photos", "2026/b.bin", small);
        p2.ContentHash.Should().Be(Streams.Sha256(small));
        await store.UploadBytesAsync("photos", "top.txt", small);

        (await store.DownloadBytesAsync("photos", "2026/a.bin")).Should().Equal(big);
        (await store.DownloadBytesAsync("photos", "2026/a.bin", new BlobDownloadOptions { Range = new BlobRange(TestStore.ChunkSize - 10, 20) }))
            .Should().Equal(big.AsSpan(TestStore.ChunkSize - 10, 20).ToArray());
        (await store.DownloadBytesAsync("photos", "2026/a.bin", new BlobDownloadOptions { Range = BlobRange.Last(5) }))
            .Should().Equal(big.AsSpan(big.Length - 5).ToArray());

        var page = await store.ListAsync("photos", new BlobListOptions { Delimiter = "/" });
        page.Blobs.Select(b => b.Name).Should().Equal("top.txt");
        page.CommonPrefixes.Should().Equal("2026/");
        var names = new List<string>();
        await foreach (var b in store.ListAllAsync("photos")) names.Add(b.Name);
        names.Should().Equal("2026/a.bin", "2026/b.bin", "top.txt");

        var paged = await store.ListAsync("photos", new BlobListOptions { PageSize = 2 });
        paged.Blobs.Should().HaveCount(2);
        var rest = await store.ListAsync("photos", new BlobListOptions { PageSize = 2, ContinuationToken = paged.ContinuationToken });
        rest.Blobs.Select(b => b.Name).Should().Equal("top.txt");
        rest.ContinuationToken.Should().BeNull();

        var over = await store.UploadBytesAsync("photos", "2026/a.bin", small);
        over.ETag.Should().NotBe(p1.ETag);
        over.CreatedOn.Should().Be(p1.CreatedOn);

        (await store.GetPropertiesAsync("photos", "2026/a.bin")).AccessCount.Should().Be(0, "the old version had the reads");
        var stats = await store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(3);
        stats.StoredBytes.Should().Be(3 * small.Length, "small blobs are kept inline, one copy each");
        stats.ReadOperations.Should().Be(3);

        (await store.VerifyAsync()).ChunksAwaitingCollection.Should().Be(4);
        t.Time.Advance(TimeSpan.FromMinutes(16));
        var report = await store.RunMaintenanceAsync();
        report.ChunksCollected.Should().Be(4);
        var verify = await store.VerifyAsync(verifyContent: true);
        verify.IsClean.Should().BeTrue();
        verify.ChunksChecked.Should().Be(0, "the small blobs live inline in the metadata store");

        await store.DeleteAsync("photos", "top.txt");
        (await store.DownloadBytesAsync("photos", "2026/b.bin")).Should().Equal(small);
        await t.ReopenAsync();
        var reopened = await t.Store.GetStatisticsAsync();
        reopened.TotalBlobs.Should().Be(2);
        reopened.ReadOperations.Should().Be(4);
        reopened.DeleteOperations.Should().Be(1);
        (await t.Store.GetPropertiesAsync("photos", "2026/b.bin")).AccessCount.Should().Be(1);
        (await t.Store.GetPropertiesAsync("photos", "2026/a.bin")).AccessCount.Should().Be(0);
    }
}
