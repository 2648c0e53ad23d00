using BlobStorage.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace BlobStorage.Tests.AspNetCore;

/// <summary>How a name is read from a raw request target, as Kestrel gives it: each segment decoded on its own.</summary>
[Parallelizable(ParallelScope.All)]
public class HttpBlobPathTests
{
    private static DefaultHttpContext Context(string rawTarget, string pattern = "/blobs/{container}/{**name}", string pathBase = "")
    {
        var context = new DefaultHttpContext();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        context.Request.PathBase = new PathString(pathBase);
        context.Request.RouteValues["container"] = "images";
        context.Request.RouteValues["name"] = "routed";
        context.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse(pattern), 0, EndpointMetadataCollection.Empty, "blob"));
        return context;
    }

    [TestCase("/blobs/images/cats/tabby.jpg", "cats/tabby.jpg")]
    [TestCase("/blobs/images/a%2Fb", "a/b")]
    [TestCase("/blobs/images/a%252Fb", "a%2Fb")]
    [TestCase("/blobs/images/a%20b/c%3Fd?sig=x#frag", "a b/c?d")]
    [TestCase("/blobs/images/%2E%2E/x", "../x")]
    [TestCase("/blobs/images/a%00b", "a\0b")]
    [TestCase("/blobs/images/%C3%BC%F0%9F%98%80", "ü😀")]
    public void Each_segment_of_the_raw_target_is_decoded_on_its_own(string raw, string expected) =>
        HttpBlobPath.Name(Context(raw)).Should().Be(expected);

    [Test]
    public void The_path_base_and_an_outer_group_prefix_are_skipped()
    {
        HttpBlobPath.Name(Context("/app/blobs/images/a%2Fb", pathBase: "/app")).Should().Be("a/b");
        HttpBlobPath.Name(Context("/api/v1/blobs/images/x/y", pattern: "/api/v1/blobs/{container}/{**name}")).Should().Be("x/y");
    }

    [Test]
    public void Without_a_raw_target_in_origin_form_the_routed_name_is_used()
    {
        HttpBlobPath.Name(Context("")).Should().Be("routed");
        HttpBlobPath.Name(Context("http://host/blobs/images/a")).Should().Be("routed");
    }
}
