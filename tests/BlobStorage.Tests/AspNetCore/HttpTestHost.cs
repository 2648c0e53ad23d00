using System.Text;
using BlobStorage.Tests.Support;
using BlobStorage.Urls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.AspNetCore;

/// <summary>An app that maps the store at <c>/blobs</c> on the ASP.NET Core test server, with a fake clock and one signing key.</summary>
public sealed class HttpTestHost : IAsyncDisposable
{
    public static readonly BlobSigningKey Key = new("test-key", Encoding.ASCII.GetBytes("an HMAC key of at least thirty-two bytes"));

    private readonly TempFolder _folder;
    private readonly WebApplication _app;

    private HttpTestHost(TempFolder folder, WebApplication app, FakeTimeProvider time)
    {
        _folder = folder;
        _app = app;
        Time = time;
        Client = app.GetTestClient();
        Server = app.GetTestServer();
        Store = app.Services.GetRequiredService<IBlobStore>();
    }

    public FakeTimeProvider Time { get; }

    public HttpClient Client { get; }

    /// <summary>The test server, to send a request whose path no client would send (HttpClient removes dot segments, encoded or not).</summary>
    public TestServer Server { get; }

    public IBlobStore Store { get; }

    public IBlobUrlProvider Urls => Store.Urls;

    public static async Task<HttpTestHost> StartAsync(Action<BlobStorageOptions>? configure = null)
    {
        var folder = new TempFolder("http");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddBlobStorage(o =>
        {
            o.RootPath = folder.Path;
            o.ChunkSize = TestStore.ChunkSize;
            o.InlineThreshold = 1024;
            o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            o.GarbageCollectionGracePeriod = TimeSpan.FromMinutes(15);
            o.Urls.BaseAddress = new Uri("http://localhost/blobs/");
            o.Urls.SigningKeys.Add(Key);
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapBlobStorage("/blobs");
        app.MapBlobStorageCustomDomains();
        await app.StartAsync();
        return new HttpTestHost(folder, app, time);
    }

    /// <summary>The path and query of a URL the store made, for the test client.</summary>
    public static string Relative(Uri url) => url.PathAndQuery;

    public string SignedPath(string container, string? name, BlobPermissions permissions, TimeSpan? lifetime = null)
    {
        var url = name is null ? new Uri("http://localhost/blobs/" + container) : Urls.GetDirectUrl(container, name);
        return Relative(Urls.Sign(url, container, name, permissions, Time.GetUtcNow() + (lifetime ?? TimeSpan.FromHours(1))));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _folder.Dispose();
    }
}
