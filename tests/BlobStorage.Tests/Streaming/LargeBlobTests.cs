using System.Diagnostics;
using System.Security.Cryptography;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Streaming;

/// <summary>
/// A 1 GiB blob goes in and out of a store with the default 4 MiB chunks while the test watches
/// memory: the bytes are generated as they are read and hashed as they pass, never held whole.
/// </summary>
[TestFixture]
public sealed class LargeBlobTests
{
    private const long OneGiB = 1L << 30;
    private const int DefaultChunkSize = 4 * 1024 * 1024;
    private const long MaxManagedGrowth = 128L * 1024 * 1024;
    private const ulong Seed = 0xB10B5EED;

    [Test]
    [Category("Large")]
    [CancelAfter(300_000)]
    public async Task A_1_GiB_blob_streams_in_and_out_with_bounded_memory(CancellationToken cancellationToken)
    {
        await using var test = await TestStore.OpenAsync(o => o.ChunkSize = DefaultChunkSize);
        await test.Store.CreateContainerAsync("large", cancellationToken: cancellationToken);

        string expectedHash;
        Abstractions.BlobProperties uploaded;
        var clock = Stopwatch.StartNew();
        var upload = MemorySampler.Start();
        await using (upload)
        {
            await using var source = new HashingStream(new FastGeneratedStream(OneGiB, Seed));
            uploaded = await test.Store.UploadAsync("large", "one-gib.bin", source, cancellationToken: cancellationToken);
            expectedHash = source.Sha256;
        }

        var uploadTime = clock.Elapsed;
        TestContext.Out.WriteLine($"upload of 1 GiB in {uploadTime.TotalSeconds:F1} s ({OneGiB / uploadTime.TotalSeconds / (1 << 20):F0} MiB/s): {upload}");

        uploaded.Size.Should().Be(OneGiB);
        uploaded.ContentHash.Should().Be(expectedHash, "the store hashes exactly the bytes it was given");

        clock.Restart();
        string downloadedHash;
        long downloaded = 0;
        var download = MemorySampler.Start();
        await using (download)
        {
            await using var blob = await test.Store.DownloadAsync("large", "one-gib.bin", cancellationToken: cancellationToken);
            blob.Length.Should().Be(OneGiB);
            blob.Properties.ContentHash.Should().Be(expectedHash);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1024 * 1024];
            int read;
            while ((read = await blob.Content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                downloaded += read;
            }

            downloadedHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        }

        var downloadTime = clock.Elapsed;
        TestContext.Out.WriteLine($"download of 1 GiB in {downloadTime.TotalSeconds:F1} s ({OneGiB / downloadTime.TotalSeconds / (1 << 20):F0} MiB/s): {download}");

        downloaded.Should().Be(OneGiB);
        downloadedHash.Should().Be(expectedHash, "the download returns the bytes uploaded");
        upload.ManagedGrowth.Should().BeLessThan(MaxManagedGrowth, $"an upload streams its content ({upload})");
        download.ManagedGrowth.Should().BeLessThan(MaxManagedGrowth, $"a download streams its content ({download})");

        var report = await test.Store.VerifyAsync(cancellationToken: cancellationToken);
        report.IsClean.Should().BeTrue();
        report.ChunksChecked.Should().Be(OneGiB / DefaultChunkSize, "256 distinct chunks of 4 MiB were stored");
    }

    [Test]
    public void The_fast_generator_yields_the_same_bytes_however_it_is_read()
    {
        const int length = 100_003;
        var whole = new byte[length];
        new FastGeneratedStream(length, Seed).ReadExactly(whole);

        using var pieces = new FastGeneratedStream(length, Seed);
        var assembled = new byte[length];
        var random = new Random(7);
        var at = 0;
        while (at < length)
        {
            var read = pieces.Read(assembled, at, Math.Min(random.Next(1, 20), length - at));
            read.Should().BeGreaterThan(0);
            at += read;
        }

        pieces.Read(new byte[10], 0, 10).Should().Be(0, "the stream ends at its length");
        assembled.Should().Equal(whole);
        whole.Distinct().Count().Should().Be(256, "the bytes look random");
        var other = new byte[16];
        new FastGeneratedStream(length, Seed + 1).ReadExactly(other);
        other.Should().NotEqual(whole.Take(16), "another seed gives other bytes");
    }
}
