using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Crash;

/// <summary>Defects the process crash suite ran into that are not about crashes, each pinned by the smallest test that shows it (fixed in src).</summary>
public class DefectsFoundTests
{
    [Test]
    public async Task A_multipart_blob_keeps_its_part_count_in_the_properties_of_a_download_and_after_one()
    {
        await using var t = await TestStore.OpenAsync(o => o.MultipartMinimumPartSize = TestStore.ChunkSize);
        var store = t.Store;
        await store.CreateContainerAsync("parts");
        var uploadId = await store.StartMultipartUploadAsync("parts", "blob");
        var first = await store.UploadPartAsync(uploadId, 1, new MemoryStream(Streams.Bytes(TestStore.ChunkSize, seed: 1)));
        var second = await store.UploadPartAsync(uploadId, 2, new MemoryStream(Streams.Bytes(100, seed: 2)));
        var completed = await store.CompleteMultipartUploadAsync(uploadId, [new CompletedPart(1, first.ETag), new CompletedPart(2, second.ETag)]);
        completed.PartCount.Should().Be(2);

        // The download's properties pass through the access tracker, whose merge of pending counts once dropped PartCount.
        await using (var download = await store.DownloadAsync("parts", "blob"))
        {
            download.Properties.PartCount.Should().Be(2, "the download's properties are the blob's");
        }

        (await store.GetPropertiesAsync("parts", "blob")).PartCount.Should().Be(2, "a pending access count must not change other properties");
    }
}
