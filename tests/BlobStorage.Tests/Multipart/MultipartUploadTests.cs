using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Multipart;

public class MultipartUploadTests
{
    private const int MinPart = 100 * 1024;

    private static Task<TestStore> OpenAsync() => TestStore.OpenAsync(o => o.MultipartMinimumPartSize = MinPart);

    private static string Composite(params byte[][] parts)
    {
        var concatenated = parts.SelectMany(p => SHA256.HashData(p)).ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(concatenated)) + "-" + parts.Length;
    }

    [Test]
    public async Task Parts_complete_into_a_blob_equal_to_their_concatenation()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "movie.bin", new MultipartUploadOptions { ContentType = "video/mp4", Tags = new Dictionary<string, string> { ["kind"] = "movie" } });
        var p1 = Streams.Bytes(MinPart + 5, 1);
        var p2 = Streams.Bytes(MinPart, 2);
        var p3 = Streams.Bytes(77, 3);
        // Out of order and concurrently: the numbers, not the arrival, give the order.
        var uploads = await Task.WhenAll(
            t.Store.UploadPartAsync(id, 3, new MemoryStream(p3)),
            t.Store.UploadPartAsync(id, 1, new MemoryStream(p1)),
            t.Store.UploadPartAsync(id, 2, new MemoryStream(p2)));
        uploads[1].ContentHash.Should().Be(Streams.Sha256(p1));
        uploads[1].Size.Should().Be(p1.Length);

        var info = await t.Store.GetMultipartUploadAsync(id);
        info.PartCount.Should().Be(3);
        info.BytesUploaded.Should().Be(p1.Length + p2.Length + p3.Length);
        (await t.Store.ListMultipartUploadsAsync("big").ToListAsync()).Select(u => u.UploadId).Should().Equal(id);

        var blob = await t.Store.CompleteMultipartUploadAsync(id, [new(1, uploads[1].ETag), new(2, uploads[2].ETag), new(3, uploads[0].ETag)]);
        blob.PartCount.Should().Be(3);
        blob.ContentHash.Should().Be(Composite(p1, p2, p3));
        blob.ETag.Should().Be("\"" + blob.ContentHash + "\"");
        blob.ContentType.Should().Be("video/mp4");
        blob.Tags.Should().ContainKey("kind");
        (await t.Store.DownloadBytesAsync("big", "movie.bin")).Should().Equal([.. p1, .. p2, .. p3]);
        await FluentActions.Awaiting(() => t.Store.GetMultipartUploadAsync(id)).Should().ThrowAsync<UploadNotFoundException>();
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task An_upload_survives_a_restart_and_completes_in_the_new_process()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "a");
        var p1 = Streams.Bytes(MinPart, 11);
        var e1 = (await t.Store.UploadPartAsync(id, 1, new MemoryStream(p1))).ETag;
        await t.ReopenAsync();
        var p2 = Streams.Bytes(10, 12);
        var e2 = (await t.Store.UploadPartAsync(id, 2, new MemoryStream(p2))).ETag;
        (await t.Store.ListPartsAsync(id)).Parts.Select(p => p.PartNumber).Should().Equal(1, 2);
        await t.Store.CompleteMultipartUploadAsync(id, [new(1, e1), new(2, e2)]);
        (await t.Store.DownloadBytesAsync("big", "a")).Should().Equal([.. p1, .. p2]);
    }

    [Test]
    public async Task Bad_completions_name_the_rule_and_leave_the_upload_open()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "a");
        var small = await t.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(10, 1)));
        var last = await t.Store.UploadPartAsync(id, 2, new MemoryStream(Streams.Bytes(10, 2)));

        (await FluentActions.Awaiting(() => t.Store.CompleteMultipartUploadAsync(id, [new(1, small.ETag), new(2, last.ETag)]))
            .Should().ThrowAsync<InvalidPartException>()).Which.PartNumber.Should().Be(1);
        (await FluentActions.Awaiting(() => t.Store.CompleteMultipartUploadAsync(id, [new(2, last.ETag), new(1, small.ETag)]))
            .Should().ThrowAsync<InvalidPartException>()).WithMessage("*ascending*");
        (await FluentActions.Awaiting(() => t.Store.CompleteMultipartUploadAsync(id, [new(3, last.ETag)]))
            .Should().ThrowAsync<InvalidPartException>()).WithMessage("*never uploaded*");
        (await FluentActions.Awaiting(() => t.Store.CompleteMultipartUploadAsync(id, [new(2, small.ETag)]))
            .Should().ThrowAsync<InvalidPartException>()).WithMessage("*ETag*");
        await FluentActions.Awaiting(() => t.Store.CompleteMultipartUploadAsync(id, [])).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => t.Store.UploadPartAsync(id, 0, new MemoryStream())).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => t.Store.UploadPartAsync(id, 10_001, new MemoryStream())).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => t.Store.UploadPartAsync("nope", 1, new MemoryStream())).Should().ThrowAsync<UploadNotFoundException>();

        (await t.Store.GetMultipartUploadAsync(id)).PartCount.Should().Be(2);
        var blob = await t.Store.CompleteMultipartUploadAsync(id, [new(2, last.ETag)]);
        blob.Size.Should().Be(10);
        t.Time.Advance(TimeSpan.FromHours(1));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(1, "part 1 was not named and is discarded");
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Complete_racing_abort_has_exactly_one_winner()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        for (var round = 0; round < 10; round++)
        {
            var id = await t.Store.StartMultipartUploadAsync("big", "race");
            var part = await t.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(100, round)));
            var complete = t.Store.CompleteMultipartUploadAsync(id, [new(1, part.ETag)]);
            var complete2 = t.Store.CompleteMultipartUploadAsync(id, [new(1, part.ETag)]);
            var abort = t.Store.AbortMultipartUploadAsync(id);
            var outcomes = await Task.WhenAll(Outcome(complete), Outcome(complete2), Outcome(abort));
            outcomes.Count(o => o is null).Should().Be(1);
            outcomes.Where(o => o is not null).Should().AllBeOfType<UploadNotFoundException>();
        }

        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();

        static async Task<Exception?> Outcome(Task task)
        {
            try
            {
                await task;
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }
    }

    [Test]
    public async Task Stale_uploads_are_aborted_by_maintenance_and_their_chunks_collected()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "old");
        await t.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(1000, 5)));
        t.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        (await t.Store.RunMaintenanceAsync()).MultipartUploadsAborted.Should().Be(1);
        await FluentActions.Awaiting(() => t.Store.GetMultipartUploadAsync(id)).Should().ThrowAsync<UploadNotFoundException>();
        t.Time.Advance(TimeSpan.FromHours(1));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(1);
        var verify = await t.Store.VerifyAsync();
        verify.IsClean.Should().BeTrue();
        verify.ChunksChecked.Should().Be(0);
    }

    [Test]
    public async Task Sixteen_tasks_upload_sixty_four_parts_and_the_download_hashes_right()
    {
        await using var t = await TestStore.OpenAsync(o => o.MultipartMinimumPartSize = TestStore.ChunkSize);
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "parallel.bin");
        var partSize = TestStore.ChunkSize + 1000;
        var etags = new string[64];
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next) - 1) < 64)
            {
                etags[index] = (await t.Store.UploadPartAsync(id, index + 1, new MemoryStream(Streams.Bytes(partSize, index)))).ETag;
            }
        })));

        var blob = await t.Store.CompleteMultipartUploadAsync(id, etags.Select((e, i) => new CompletedPart(i + 1, e)));
        blob.Size.Should().Be(64L * partSize);
        blob.PartCount.Should().Be(64);
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var i = 0; i < 64; i++) expected.AppendData(Streams.Bytes(partSize, i));
        await using var download = await t.Store.DownloadAsync("big", "parallel.bin");
        var actual = await SHA256.HashDataAsync(download.Content);
        actual.Should().Equal(expected.GetHashAndReset());
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Listing_getting_replacing_and_aborting_parts()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "a/b.bin", new MultipartUploadOptions { StorageClass = StorageClass.Archive });
        var other = await t.Store.StartMultipartUploadAsync("big", "a/a.bin");
        for (var n = 1; n <= 5; n++) await t.Store.UploadPartAsync(id, n, new MemoryStream(Streams.Bytes(100 * n, n)));

        var first = await t.Store.ListPartsAsync(id, new PartListOptions { PageSize = 2 });
        first.Parts.Select(p => p.PartNumber).Should().Equal(1, 2);
        first.NextPartNumberMarker.Should().Be(2);
        var rest = await t.Store.ListPartsAsync(id, new PartListOptions { PageSize = 10, PartNumberMarker = 2 });
        rest.Parts.Select(p => p.PartNumber).Should().Equal(3, 4, 5);
        rest.NextPartNumberMarker.Should().BeNull();
        await FluentActions.Awaiting(() => t.Store.ListPartsAsync(id, new PartListOptions { PageSize = 0 })).Should().ThrowAsync<ArgumentOutOfRangeException>();

        var info = await t.Store.GetMultipartUploadAsync(id);
        info.Container.Should().Be("big");
        info.Name.Should().Be("a/b.bin");
        info.StorageClass.Should().Be(StorageClass.Archive);
        info.StartedOn.Should().Be(t.Time.GetUtcNow());
        info.PartCount.Should().Be(5);
        info.BytesUploaded.Should().Be(1500);
        (await t.Store.ListMultipartUploadsAsync("big").ToListAsync()).Select(u => u.UploadId).Should().Equal(other, id);

        // Uploading a part number again replaces it: the old ETag no longer completes the upload.
        var old = (await t.Store.ListPartsAsync(id)).Parts[0];
        var replaced = await t.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(100, 99)));
        replaced.ETag.Should().NotBe(old.ETag);
        (await t.Store.GetMultipartUploadAsync(id)).PartCount.Should().Be(5);
        await FluentActions.Awaiting(() => t.Store.CompleteMultipartUploadAsync(id, [new(1, old.ETag)])).Should().ThrowAsync<InvalidPartException>();

        await t.Store.AbortMultipartUploadAsync(id);
        await FluentActions.Awaiting(() => t.Store.UploadPartAsync(id, 6, new MemoryStream([1]))).Should().ThrowAsync<UploadNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.AbortMultipartUploadAsync(id)).Should().ThrowAsync<UploadNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.ListPartsAsync(id)).Should().ThrowAsync<UploadNotFoundException>();
        t.Time.Advance(TimeSpan.FromHours(1));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(6, "five parts and the replaced one");
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Conditions_are_checked_at_completion_and_a_failure_leaves_the_upload_open()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "once", new MultipartUploadOptions { Conditions = BlobRequestConditions.CreateOnly });
        var part = await t.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(10, 1)));
        await t.Store.UploadBytesAsync("big", "once", Streams.Bytes(5, 2));
        await FluentActions.Awaiting(() => t.Store.CompleteMultipartUploadAsync(id, [new(1, part.ETag)])).Should().ThrowAsync<PreconditionFailedException>();
        (await t.Store.GetMultipartUploadAsync(id)).PartCount.Should().Be(1);
        await t.Store.DeleteAsync("big", "once");
        (await t.Store.CompleteMultipartUploadAsync(id, [new(1, part.ETag)])).Size.Should().Be(10);
        await FluentActions.Awaiting(() => t.Store.StartMultipartUploadAsync("nope", "x")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.StartMultipartUploadAsync("big", "bad/../x")).Should().ThrowAsync<ArgumentException>();
    }

    [Test]
    public async Task Deleting_a_container_aborts_its_uploads()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("big");
        var id = await t.Store.StartMultipartUploadAsync("big", "x");
        await t.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(1000, 1)));
        await t.Store.DeleteContainerAsync("big");
        await FluentActions.Awaiting(() => t.Store.GetMultipartUploadAsync(id)).Should().ThrowAsync<UploadNotFoundException>();
        t.Time.Advance(TimeSpan.FromHours(1));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(1);
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }
}
