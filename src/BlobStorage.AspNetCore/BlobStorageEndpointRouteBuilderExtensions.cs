using BlobStorage.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

// Endpoint extensions live in this namespace by the convention of ASP.NET Core.
#pragma warning disable IDE0130
namespace Microsoft.AspNetCore.Builder;
#pragma warning restore IDE0130

/// <summary>Serves the <see cref="BlobStorage.IBlobStore"/> registered by <c>AddBlobStorage()</c> over HTTP.</summary>
public static class BlobStorageEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps, under <paramref name="prefix"/>:
    /// <list type="bullet">
    /// <item><c>GET</c> and <c>HEAD {prefix}/{container}/{name}</c>: a blob, with <c>Range</c> (206, 416), <c>If-Match</c> and
    /// <c>If-Unmodified-Since</c> (412), <c>If-None-Match</c> and <c>If-Modified-Since</c> (304), <c>ETag</c>, <c>Last-Modified</c>,
    /// <c>Content-Type</c>, <c>Content-Length</c>, <c>Accept-Ranges</c> and <c>Cache-Control</c> from the container's CDN
    /// configuration; through an edge location with the query parameter <c>edge</c>.</item>
    /// <item><c>PUT</c> (streamed upload; <c>Content-Type</c>, <c>If-Match</c>, <c>If-None-Match</c>) and <c>DELETE</c> of a blob, when a signed URL grants it.</item>
    /// <item><c>GET {prefix}/{container}</c>: one page of the container's blobs as JSON (<c>prefix</c>, <c>delimiter</c>,
    /// <c>continuation</c>, <c>maxresults</c>), when a URL signed for the container grants List.</item>
    /// </list>
    /// Blobs of <see cref="BlobStorage.Abstractions.AccessPolicy.Public"/> containers are readable without a signature; everything
    /// else needs one (see <see cref="BlobStorage.Urls.IBlobUrlProvider"/>). A refusal is a 403 whose JSON body says why;
    /// no response carries a stack trace. Names are taken from the raw request path, each segment percent-decoded.
    /// </summary>
    /// <param name="endpoints">The application or a route group.</param>
    /// <param name="prefix">The path the store is served under. Default <c>/blobs</c>.</param>
    /// <returns>The group of the mapped endpoints, to add conventions (authorization, rate limits) to.</returns>
    public static RouteGroupBuilder MapBlobStorage(this IEndpointRouteBuilder endpoints, string prefix = "/blobs")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var group = endpoints.MapGroup(prefix);
        group.MapMethods("{container}/{**name}", [HttpMethods.Get, HttpMethods.Head], BlobEndpoints.ReadAsync);
        group.MapMethods("{container}/{**name}", [HttpMethods.Put], BlobEndpoints.UploadAsync);
        group.MapMethods("{container}/{**name}", [HttpMethods.Delete], BlobEndpoints.DeleteAsync);
        group.MapMethods("{container}", [HttpMethods.Get], BlobEndpoints.ListAsync);
        return group;
    }

    /// <summary>
    /// Serves the CDN URLs of containers with a <see cref="BlobStorage.Abstractions.CdnConfiguration.CustomDomain"/>
    /// (<c>https://images.example.com/cats/tabby.jpg</c>, <c>?edge=…</c> to read through an edge): <c>GET</c> and <c>HEAD</c>
    /// of any path that no other endpoint matches, sent with a <c>Host</c> that is an enabled container's custom domain, read
    /// the blob named by the whole path, exactly as <see cref="MapBlobStorage"/>'s read does (signatures, ranges, conditions,
    /// <c>Cache-Control</c>). Any other host gets a 404. Point the domain's DNS (or the CDN's origin) at this app.
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <returns>The mapped endpoint, to add conventions to.</returns>
    public static IEndpointConventionBuilder MapBlobStorageCustomDomains(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var builder = endpoints.MapMethods("/{**name}", [HttpMethods.Get, HttpMethods.Head], BlobEndpoints.ReadFromCustomDomainAsync);

        // Last of all routes: only a request nothing else in the app matches is taken for a custom domain's blob.
        builder.Add(endpoint => ((RouteEndpointBuilder)endpoint).Order = int.MaxValue);
        return builder;
    }
}
