using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class ProgressTests
{
    private const int MiB = 1024 * 1024;

    /// <summary>Records every report on the reporting thread (System.Progress posts them later, elsewhere).</summary>
    private sealed class Recorder : IProgress<long>
    {
        public List<long> Reports { get; } = [];

        public void Report(long value)
        {
            lock (Reports) Reports.Add(value);
        }
    }

    private static void ShouldCoverEveryMiB(List<long> reports, long total)
    {
        reports.Should().NotBeEmpty();
        reports.Should().BeInAscendingOrder();
        reports[^1].Should().Be(total);
        long previous = 0;
        foreach (var report in reports)
        {
            (report - previous).Should().BeLessThanOrEqualTo(MiB, "a report comes at least every MiB");
            previous = report;
        }
    }

    [Test]
    public async Task An_upload_reports_at_least_every_MiB_and_its_total_at_the_end()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("data");
        var progress = new Recorder();
        var size = (3 * MiB) + 12345;
        await test.Store.UploadBytesAsync("data", "big", Streams.Bytes(size), new BlobUploadOptions { Progress = progress });
        ShouldCoverEveryMiB(progress.Reports, size);
    }

    [Test]
    public async Task A_download_reports_at_least_every_MiB_and_its_total_at_the_end_even_with_one_large_read()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("data");
        var size = (3 * MiB) + 777;
        var content = Streams.Bytes(size);
        await test.Store.UploadBytesAsync("data", "big", content);

        var progress = new Recorder();
        await using var download = await test.Store.DownloadAsync("data", "big", new BlobDownloadOptions { Progress = progress });
        var buffer = new byte[size];
        var read = 0;
        while (read < size)
        {
            // One read asks for everything: the stream still reports each MiB.
            var n = await download.Content.ReadAsync(buffer.AsMemory(read));
            n.Should().BePositive();
            read += n;
        }

        buffer.Should().Equal(content);
        ShouldCoverEveryMiB(progress.Reports, size);
    }

    [Test]
    public async Task A_ranged_download_reports_the_range_length_at_the_end()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("data");
        await test.Store.UploadBytesAsync("data", "big", Streams.Bytes(2 * MiB));
        var progress = new Recorder();
        var bytes = await test.Store.DownloadBytesAsync("data", "big", new BlobDownloadOptions { Range = new BlobRange(100, 1500000), Progress = progress });
        bytes.Should().HaveCount(1500000);
        ShouldCoverEveryMiB(progress.Reports, 1500000);
    }

    [Test]
    public async Task UploadPart_reports_at_least_every_MiB_and_its_total_at_the_end()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("data");
        var id = await test.Store.StartMultipartUploadAsync("data", "parted");
        var progress = new Recorder();
        var size = (2 * MiB) + 5;
        using var content = new MemoryStream(Streams.Bytes(size));
        var part = await test.Store.UploadPartAsync(id, 1, content, progress);
        part.Size.Should().Be(size);
        ShouldCoverEveryMiB(progress.Reports, size);
    }
}
