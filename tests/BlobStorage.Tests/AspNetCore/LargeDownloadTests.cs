using System.Net;
using System.Security.Cryptography;
using BlobStorage.Tests.Streaming;
using BlobStorage.Urls;

namespace BlobStorage.Tests.AspNetCore;

/// <summary>A 1 GiB blob downloaded over HTTP while the test watches memory: streamed, never held whole.</summary>
[TestFixture]
public sealed class LargeDownloadTests
{
    private const long OneGiB = 1L << 30;
    private const long MaxManagedGrowth = 128L * 1024 * 1024;

    [Test]
    [Category("Large")]
    [CancelAfter(300_000)]
    public async Task A_1_GiB_blob_downloads_over_http_with_bounded_memory(CancellationToken cancellationToken)
    {
        await using var host = await HttpTestHost.StartAsync(o => o.ChunkSize = 4 * 1024 * 1024);
        await host.Store.CreateContainerAsync("large", cancellationToken: cancellationToken);
        string expectedHash;
        await using (var source = new HashingStream(new FastGeneratedStream(OneGiB, 0xB10B5EED)))
        {
            await host.Store.UploadAsync("large", "one-gib.bin", source, cancellationToken: cancellationToken);
            expectedHash = source.Sha256;
        }

        long downloaded = 0;
        string downloadedHash;
        var sampler = MemorySampler.Start();
        await using (sampler)
        {
            using var response = await host.Client.GetAsync(host.SignedPath("large", "one-gib.bin", BlobPermissions.Read), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Content.Headers.ContentLength.Should().Be(OneGiB);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1024 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                downloaded += read;
            }

            downloadedHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        }

        TestContext.Out.WriteLine($"HTTP download of 1 GiB: {sampler}");
        downloaded.Should().Be(OneGiB);
        downloadedHash.Should().Be(expectedHash);
        sampler.ManagedGrowth.Should().BeLessThan(MaxManagedGrowth, $"the response streams the blob ({sampler})");
    }
}
