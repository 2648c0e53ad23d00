using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BlobStorage.Benchmarks;

/// <summary>
/// A 64 MiB blob read over HTTP (MapBlobStorage on Kestrel at 127.0.0.1, a plain HttpClient) against a
/// direct DownloadAsync of the same blob, in the same run.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class HttpDownloadBenchmarks
{
    private const string Container = "videos";
    private const string Name = "big.mp4";

    private string _root = "";
    private WebApplication _app = null!;
    private IBlobStore _store = null!;
    private HttpClient _client = null!;
    private byte[] _buffer = [];

    /// <summary>The size of the blob, in bytes.</summary>
    [Params(64 * 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-bench-http-" + Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddBlobStorage(o => o.RootPath = _root);
        _app = builder.Build();
        _app.MapBlobStorage("/blobs");
        await _app.StartAsync();
        _store = _app.Services.GetRequiredService<IBlobStore>();
        await _store.CreateContainerAsync(Container, new ContainerOptions { AccessPolicy = AccessPolicy.Public });
        using (var content = new GeneratedStream(Size, seed: 5))
        {
            await _store.UploadAsync(Container, Name, content);
        }

        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
        _buffer = new byte[128 * 1024];
    }

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Reads the blob from the store in process.</summary>
    [Benchmark(Baseline = true)]
    public async Task<long> DirectDownload()
    {
        await using var download = await _store.DownloadAsync(Container, Name);
        return await DrainAsync(download.Content);
    }

    /// <summary>Reads the same blob with an HTTP GET through the endpoint.</summary>
    [Benchmark]
    public async Task<long> HttpGet()
    {
        using var response = await _client.GetAsync($"/blobs/{Container}/{Name}", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        return await DrainAsync(body);
    }

    private async Task<long> DrainAsync(Stream content)
    {
        long total = 0;
        int read;
        while ((read = await content.ReadAsync(_buffer)) > 0) total += read;
        return total;
    }
}
