using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using BlobStorage.Urls;
using Microsoft.AspNetCore.Http;

namespace BlobStorage.Tests.AspNetCore;

[Parallelizable(ParallelScope.All)]
public class BlobEndpointsTests
{
    private static async Task<HttpTestHost> StartWithBlobAsync(AccessPolicy policy, byte[] content, string name = "cats/tabby.jpg", CdnConfiguration? cdn = null)
    {
        var host = await HttpTestHost.StartAsync();
        await host.Store.CreateContainerAsync("images", new ContainerOptions { AccessPolicy = policy });
        if (cdn is not null) await host.Store.SetCdnConfigurationAsync("images", cdn);
        await host.Store.UploadBytesAsync("images", name, content, new BlobUploadOptions { ContentType = "image/jpeg" });
        return host;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static HttpRequestMessage Request(HttpMethod method, string url, Action<HttpRequestHeaders>? headers = null)
    {
        var request = new HttpRequestMessage(method, url);
        headers?.Invoke(request.Headers);
        return request;
    }

    // ---------------------------------------------------------------- reading

    [Test]
    public async Task A_public_blob_is_served_without_a_signature_with_every_header()
    {
        var content = Streams.Bytes(200_000, 1);
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, content, cdn: new CdnConfiguration { Enabled = true, TimeToLive = TimeSpan.FromSeconds(7200) });
        var properties = await host.Store.GetPropertiesAsync("images", "cats/tabby.jpg");

        using var response = await host.Client.GetAsync("/blobs/images/cats/tabby.jpg");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        response.Headers.ETag!.ToString().Should().Be(properties.ETag);
        response.Headers.AcceptRanges.Should().Equal("bytes");
        response.Headers.CacheControl!.ToString().Should().Be("public, max-age=7200");
        response.Content.Headers.ContentType!.MediaType.Should().Be("image/jpeg");
        response.Content.Headers.ContentLength.Should().Be(200_000);
        response.Content.Headers.LastModified.Should().Be(DateTimeOffset.FromUnixTimeSeconds(properties.LastModified.ToUnixTimeSeconds()));

        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/blobs/images/cats/tabby.jpg"));
        head.StatusCode.Should().Be(HttpStatusCode.OK);
        head.Content.Headers.ContentLength.Should().Be(200_000);
        head.Headers.ETag!.ToString().Should().Be(properties.ETag);
        (await head.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        (await host.Store.GetPropertiesAsync("images", "cats/tabby.jpg")).AccessCount.Should().Be(1, "a HEAD reads no content and is not a download");
    }

    [Test]
    public async Task Cache_control_comes_from_the_cdn_configuration()
    {
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, Streams.Bytes(10));
        (await host.Client.GetAsync("/blobs/images/cats/tabby.jpg")).Headers.CacheControl!.ToString().Should().Be("no-cache");
        await host.Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, CacheControl = "public, max-age=60, immutable" });
        (await host.Client.GetAsync("/blobs/images/cats/tabby.jpg")).Headers.CacheControl!.ToString().Should().Be("public, max-age=60, immutable");
    }

    [Test]
    public async Task A_private_blob_needs_a_valid_signature_and_a_refusal_says_why()
    {
        var content = Streams.Bytes(5000, 2);
        await using var host = await StartWithBlobAsync(AccessPolicy.Private, content);

        using var anonymous = await host.Client.GetAsync("/blobs/images/cats/tabby.jpg");
        anonymous.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var body = await anonymous.Content.ReadAsStringAsync();
        var json = JsonDocument.Parse(body).RootElement;
        json.GetProperty("error").GetString().Should().Be("Missing");
        json.GetProperty("reason").GetString().Should().NotBeNullOrEmpty();
        body.Should().NotContain(" at ", "no stack trace");

        var signed = host.SignedPath("images", "cats/tabby.jpg", BlobPermissions.Read, TimeSpan.FromMinutes(5));
        using (var ok = await host.Client.GetAsync(signed))
        {
            ok.StatusCode.Should().Be(HttpStatusCode.OK);
            (await ok.Content.ReadAsByteArrayAsync()).Should().Equal(content);
            ok.Headers.CacheControl!.ToString().Should().Be("no-cache");
        }

        var query = signed[signed.IndexOf('?', StringComparison.Ordinal)..];
        await host.Store.UploadBytesAsync("images", "cats/other.jpg", content);
        using (var otherPath = await host.Client.GetAsync("/blobs/images/cats/other.jpg" + query))
        {
            otherPath.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await JsonAsync(otherPath)).GetProperty("error").GetString().Should().Be("TamperedPath");
        }

        host.Time.Advance(TimeSpan.FromMinutes(5));
        using var expired = await host.Client.GetAsync(signed);
        expired.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await JsonAsync(expired)).GetProperty("error").GetString().Should().Be("Expired");
    }

    [Test]
    public async Task Ranges_give_206_with_content_range_and_416_when_unsatisfiable()
    {
        var content = Streams.Bytes(150_000, 3);
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, content);

        async Task<HttpResponseMessage> Get(string range) =>
            await host.Client.SendAsync(Request(HttpMethod.Get, "/blobs/images/cats/tabby.jpg", h => h.TryAddWithoutValidation("Range", range)));

        using (var middle = await Get("bytes=70000-70099"))
        {
            middle.StatusCode.Should().Be(HttpStatusCode.PartialContent);
            middle.Content.Headers.ContentRange!.ToString().Should().Be("bytes 70000-70099/150000");
            middle.Content.Headers.ContentLength.Should().Be(100);
            (await middle.Content.ReadAsByteArrayAsync()).Should().Equal(content.AsSpan(70_000, 100).ToArray());
        }

        using (var suffix = await Get("bytes=-10"))
        {
            suffix.Content.Headers.ContentRange!.ToString().Should().Be("bytes 149990-149999/150000");
            (await suffix.Content.ReadAsByteArrayAsync()).Should().Equal(content.AsSpan(149_990).ToArray());
        }

        using (var open = await Get("bytes=149000-"))
        {
            open.Content.Headers.ContentRange!.ToString().Should().Be("bytes 149000-149999/150000");
            (await open.Content.ReadAsByteArrayAsync()).Should().Equal(content.AsSpan(149_000).ToArray());
        }

        using (var past = await Get("bytes=150000-"))
        {
            past.StatusCode.Should().Be(HttpStatusCode.RequestedRangeNotSatisfiable);
            past.Content.Headers.ContentRange!.ToString().Should().Be("bytes */150000");
        }

        using (var several = await Get("bytes=0-1,5-6"))
        {
            several.StatusCode.Should().Be(HttpStatusCode.OK, "several ranges are served whole");
            (await several.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        }

        using var head = await host.Client.SendAsync(Request(HttpMethod.Head, "/blobs/images/cats/tabby.jpg", h => h.TryAddWithoutValidation("Range", "bytes=10-19")));
        head.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        head.Content.Headers.ContentRange!.ToString().Should().Be("bytes 10-19/150000");
    }

    [Test]
    public async Task Conditional_requests_give_304_and_412()
    {
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, Streams.Bytes(1000));
        var properties = await host.Store.GetPropertiesAsync("images", "cats/tabby.jpg");
        var url = "/blobs/images/cats/tabby.jpg";

        using (var notModified = await host.Client.SendAsync(Request(HttpMethod.Get, url, h => h.TryAddWithoutValidation("If-None-Match", properties.ETag))))
        {
            notModified.StatusCode.Should().Be(HttpStatusCode.NotModified);
            notModified.Headers.ETag!.ToString().Should().Be(properties.ETag);
        }

        (await host.Client.SendAsync(Request(HttpMethod.Get, url, h => h.TryAddWithoutValidation("If-None-Match", "\"other\"")))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.SendAsync(Request(HttpMethod.Get, url, h => h.IfModifiedSince = properties.LastModified.AddSeconds(1)))).StatusCode.Should().Be(HttpStatusCode.NotModified);
        (await host.Client.SendAsync(Request(HttpMethod.Get, url, h => h.IfModifiedSince = properties.LastModified.AddMinutes(-1)))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.SendAsync(Request(HttpMethod.Get, url, h => h.TryAddWithoutValidation("If-Match", "\"other\"")))).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await host.Client.SendAsync(Request(HttpMethod.Get, url, h => h.TryAddWithoutValidation("If-Match", properties.ETag)))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.SendAsync(Request(HttpMethod.Get, url, h => h.IfUnmodifiedSince = properties.LastModified.AddMinutes(-1)))).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);

        // A failed condition wins over an unsatisfiable range.
        (await host.Client.SendAsync(Request(HttpMethod.Get, url, h =>
        {
            h.TryAddWithoutValidation("If-None-Match", properties.ETag);
            h.TryAddWithoutValidation("Range", "bytes=5000-");
        }))).StatusCode.Should().Be(HttpStatusCode.NotModified);
    }

    [Test]
    public async Task An_edge_serves_the_blob_from_its_cache_on_the_second_read()
    {
        var content = Streams.Bytes(100_000, 4);
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, content, cdn: new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1"], TimeToLive = TimeSpan.FromSeconds(7200) });
        for (var i = 0; i < 2; i++)
        {
            using var response = await host.Client.GetAsync("/blobs/images/cats/tabby.jpg?edge=us-east-1");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        }

        var stats = host.Store.EdgeCache.GetStatistics().Total;
        (stats.Hits, stats.Misses).Should().Be((1L, 1L));
        (await host.Client.GetAsync("/blobs/images/cats/tabby.jpg?edge=eu-west-1")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the container is not at that edge");
        (await host.Client.GetAsync("/blobs/images/cats/tabby.jpg?edge=Bad%20Edge")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task Missing_containers_and_blobs_are_404_with_a_reason()
    {
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, Streams.Bytes(10));
        using var blob = await host.Client.GetAsync("/blobs/images/missing.jpg");
        blob.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await JsonAsync(blob)).GetProperty("error").GetString().Should().Be("BlobNotFound");
        (await host.Client.GetAsync("/blobs/nothere/a.jpg")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await host.Client.GetAsync("/blobs/Bad_Container/a.jpg")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task A_cdn_url_on_a_custom_domain_is_served_from_its_container()
    {
        var content = Streams.Bytes(70_000, 9);
        var cdn = new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1"], TimeToLive = TimeSpan.FromSeconds(7200), CustomDomain = "images.example.com" };
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, content, cdn: cdn);

        var url = await host.Urls.GetCdnUrlAsync("images", "cats/tabby.jpg");
        url.Should().Be(new Uri("https://images.example.com/cats/tabby.jpg"));
        using (var response = await host.Client.GetAsync(url))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
            response.Headers.CacheControl!.ToString().Should().Be("public, max-age=7200");
        }

        // Through an edge, with a range, and with the host spelled in capitals with a port.
        using (var ranged = await host.Client.SendAsync(Request(HttpMethod.Get, "http://IMAGES.example.com:8080/cats/tabby.jpg?edge=us-east-1", h => h.Range = new RangeHeaderValue(100, 199))))
        {
            ranged.StatusCode.Should().Be(HttpStatusCode.PartialContent);
            (await ranged.Content.ReadAsByteArrayAsync()).Should().Equal(content[100..200]);
        }

        host.Store.EdgeCache.GetStatistics().Total.Misses.Should().Be(1);

        // A host that is no container's domain, or no domain at all, is a plain 404; the /blobs routes are unchanged.
        (await host.Client.GetAsync("http://videos.example.com/cats/tabby.jpg")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await host.Client.GetAsync("http://localhost/cats/tabby.jpg")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await host.Client.GetAsync("/blobs/images/cats/tabby.jpg")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.GetAsync("http://images.example.com/cats/missing.jpg")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // Turning the CDN off takes the domain off the air.
        await host.Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = false, CustomDomain = "images.example.com" });
        (await host.Client.GetAsync(url)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task A_private_container_on_a_custom_domain_needs_a_signed_cdn_url()
    {
        var content = Streams.Bytes(3000, 10);
        await using var host = await StartWithBlobAsync(AccessPolicy.Private, content, cdn: new CdnConfiguration { Enabled = true, CustomDomain = "private.example.com" });
        var url = await host.Urls.GetCdnUrlAsync("images", "cats/tabby.jpg");

        using (var anonymous = await host.Client.GetAsync(url))
        {
            anonymous.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await JsonAsync(anonymous)).GetProperty("error").GetString().Should().Be("Missing");
        }

        var signed = host.Urls.Sign(url, "images", "cats/tabby.jpg", BlobPermissions.Read, host.Time.GetUtcNow().AddHours(1));
        using var response = await host.Client.GetAsync(signed);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(content);
        (await host.Store.FindContainerByCustomDomainAsync("Private.Example.com.")).Should().Be("images");
        await FluentActions.Awaiting(() => host.Store.FindContainerByCustomDomainAsync("https://private.example.com/")).Should().ThrowAsync<ArgumentException>();
    }

    // ---------------------------------------------------------------- names in paths

    [TestCase("a b/c?d#e%f+g;h&i=j.txt")]
    [TestCase("ünï/😀.png")]
    [TestCase("a%2Fb")]
    [TestCase("%2E%2E/x")]
    [TestCase("x/%00")]
    public async Task A_name_round_trips_through_its_url(string name)
    {
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, Streams.Bytes(10, 5), name);
        using var response = await host.Client.GetAsync(HttpTestHost.Relative(host.Urls.GetDirectUrl("images", name)));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(Streams.Bytes(10, 5));
    }

    [Test]
    public async Task Dot_segments_nul_and_slash_in_a_decoded_path_are_refused_or_taken_as_names_never_as_paths()
    {
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, Streams.Bytes(10, 6), "a/b");

        // The test server gives no raw target, so the name is the server-decoded path, which keeps %2F as text:
        // "a%2Fb" is a name of its own (that does not exist), not "a/b" and not a path. (Kestrel gives the raw
        // target, and there each segment is decoded: see HttpBlobPathTests.)
        using (var slash = await host.Client.GetAsync("/blobs/images/a%2Fb"))
        {
            slash.StatusCode.Should().Be(HttpStatusCode.NotFound);
            (await JsonAsync(slash)).GetProperty("error").GetString().Should().Be("BlobNotFound");
        }

        // Paths as a server hands them on after decoding "%2E%2E" and "%00": what a client's encoding could smuggle in.
        foreach (var path in new[] { "/blobs/images/../../metadata.db", "/blobs/images/a/../b", "/blobs/images/./a/b", "/blobs/images/a\0b", "/blobs/images/a//b", "/blobs/images/a\\b", "/blobs/images/a\bc" })
        {
            var context = await host.Server.SendAsync(c =>
            {
                c.Request.Method = HttpMethods.Get;
                c.Request.Path = new PathString(path);
            });
            context.Response.StatusCode.Should().Be(StatusCodes.Status400BadRequest, path);
            using var reader = new StreamReader(context.Response.Body);
            JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.GetProperty("error").GetString().Should().Be("BadRequest");
        }
    }

    // ---------------------------------------------------------------- writing and listing

    [Test]
    public async Task Put_and_delete_need_a_signature_that_grants_them()
    {
        await using var host = await HttpTestHost.StartAsync();
        await host.Store.CreateContainerAsync("images", new ContainerOptions { AccessPolicy = AccessPolicy.Public });
        var content = Streams.Bytes(300_000, 7);

        using (var anonymous = await host.Client.PutAsync("/blobs/images/new.bin", new ByteArrayContent(content)))
        {
            anonymous.StatusCode.Should().Be(HttpStatusCode.Forbidden, "public means readable, not writable");
        }

        using (var readOnly = await host.Client.PutAsync(host.SignedPath("images", "new.bin", BlobPermissions.Read), new ByteArrayContent(content)))
        {
            readOnly.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await JsonAsync(readOnly)).GetProperty("error").GetString().Should().Be("MissingPermission");
        }

        var body = new StreamContent(new MemoryStream(content));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/x-test");
        using (var put = await host.Client.PutAsync(host.SignedPath("images", "new.bin", BlobPermissions.Write | BlobPermissions.Delete), body))
        {
            put.StatusCode.Should().Be(HttpStatusCode.Created);
            var stored = await host.Store.GetPropertiesAsync("images", "new.bin");
            put.Headers.ETag!.ToString().Should().Be(stored.ETag);
            stored.ContentType.Should().Be("application/x-test");
            stored.Size.Should().Be(300_000);
            (await JsonAsync(put)).GetProperty("contentHash").GetString().Should().Be(Streams.Sha256(content));
        }

        (await host.Store.DownloadBytesAsync("images", "new.bin")).Should().Equal(content);

        var createOnly = new HttpRequestMessage(HttpMethod.Put, host.SignedPath("images", "new.bin", BlobPermissions.Write)) { Content = new ByteArrayContent([1]) };
        createOnly.Headers.TryAddWithoutValidation("If-None-Match", "*");
        (await host.Client.SendAsync(createOnly)).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);

        (await host.Client.DeleteAsync("/blobs/images/new.bin")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await host.Client.DeleteAsync(host.SignedPath("images", "new.bin", BlobPermissions.Delete))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.Client.GetAsync("/blobs/images/new.bin")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await host.Client.DeleteAsync(host.SignedPath("images", "new.bin", BlobPermissions.Delete))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task A_container_lists_as_json_page_by_page_with_a_list_signature()
    {
        await using var host = await HttpTestHost.StartAsync();
        await host.Store.CreateContainerAsync("images", new ContainerOptions { AccessPolicy = AccessPolicy.Public });
        foreach (var name in new[] { "a.jpg", "b.jpg", "cats/1.jpg", "cats/2.jpg", "dogs/1.jpg" }) await host.Store.UploadBytesAsync("images", name, Streams.Bytes(10));

        (await host.Client.GetAsync("/blobs/images")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "listing always needs a signature");

        var signed = host.SignedPath("images", null, BlobPermissions.List);
        using (var grouped = await host.Client.GetAsync(signed + "&delimiter=%2F"))
        {
            grouped.StatusCode.Should().Be(HttpStatusCode.OK);
            grouped.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
            var json = await JsonAsync(grouped);
            json.GetProperty("blobs").EnumerateArray().Select(b => b.GetProperty("name").GetString()).Should().Equal("a.jpg", "b.jpg");
            json.GetProperty("prefixes").EnumerateArray().Select(p => p.GetString()).Should().Equal("cats/", "dogs/");
        }

        var names = new List<string?>();
        string? continuation = null;
        do
        {
            var url = signed + "&prefix=cats%2F&maxresults=1" + (continuation is null ? "" : "&continuation=" + Uri.EscapeDataString(continuation));
            var json = await JsonAsync(await host.Client.GetAsync(url));
            names.AddRange(json.GetProperty("blobs").EnumerateArray().Select(b => b.GetProperty("name").GetString()));
            continuation = json.GetProperty("continuation").GetString();
        }
        while (continuation is not null);
        names.Should().Equal("cats/1.jpg", "cats/2.jpg");
    }

    // ---------------------------------------------------------------- streaming

    [Test]
    public async Task A_client_that_leaves_mid_download_releases_the_blobs_chunks()
    {
        var content = Streams.Bytes(20 * TestStore.ChunkSize, 8);
        await using var host = await StartWithBlobAsync(AccessPolicy.Public, content, "big.bin");

        using (var response = await host.Client.GetAsync("/blobs/images/big.bin", HttpCompletionOption.ResponseHeadersRead))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1000];
            await stream.ReadExactlyAsync(buffer);
            buffer.Should().Equal(content.AsSpan(0, 1000).ToArray());
        }

        // Once the server has seen the client go, nothing pins the chunks: deleted and past the grace period, they are collected.
        await host.Store.DeleteAsync("images", "big.bin");
        host.Time.Advance(TimeSpan.FromMinutes(16));
        long collected = 0;
        for (var attempt = 0; attempt < 200 && collected < 20; attempt++)
        {
            collected += (await host.Store.RunMaintenanceAsync()).ChunksCollected;
            if (collected < 20) await Task.Delay(10);
        }

        collected.Should().Be(20);
    }

    [Test]
    public async Task A_large_blob_streams_both_ways()
    {
        const long Size = 48L * 1024 * 1024;
        await using var host = await HttpTestHost.StartAsync();
        await host.Store.CreateContainerAsync("videos");
        using (var put = await host.Client.PutAsync(host.SignedPath("videos", "big.mp4", BlobPermissions.Write), new StreamContent(new GeneratedStream(Size))))
        {
            put.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        var expected = await Streams.ReadAllAsync(new GeneratedStream(Size));
        using var response = await host.Client.GetAsync(host.SignedPath("videos", "big.mp4", BlobPermissions.Read), HttpCompletionOption.ResponseHeadersRead);
        response.Content.Headers.ContentLength.Should().Be(Size);
        await using var stream = await response.Content.ReadAsStreamAsync();
        Streams.Sha256(await Streams.ReadAllAsync(stream)).Should().Be(Streams.Sha256(expected));
    }
}
