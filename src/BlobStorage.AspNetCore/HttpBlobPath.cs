using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace BlobStorage.AspNetCore;

/// <summary>
/// The container and blob name of a request. The name comes from the raw request target, each segment
/// percent-decoded on its own: the server's decoded path keeps <c>%2F</c> as text, so it could not tell the
/// name <c>a%2Fb</c> (sent as <c>a%252Fb</c>) from <c>a/b</c> sent as <c>a%2Fb</c>. A decoded name is only
/// ever a name: the store validates it (no <c>..</c> segment, no control character) and never makes it a path.
/// </summary>
internal static class HttpBlobPath
{
    public static string Container(HttpContext context) => (string)context.Request.RouteValues["container"]!;

    public static string Name(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/' || context.GetEndpoint() is not RouteEndpoint endpoint)
        {
            // No raw target (an origin-form one is what servers give): the routed value, decoded by the server.
            return context.Request.RouteValues["name"] as string ?? "";
        }

        var end = raw.AsSpan().IndexOfAny('?', '#');
        var path = end < 0 ? raw : raw[..end];
        var segments = path.Split('/');

        // The name is what follows the path base and every segment of the route but its last ({**name}).
        var pathBase = context.Request.PathBase.Value ?? "";
        var skip = 1 + pathBase.Split('/', StringSplitOptions.RemoveEmptyEntries).Length + endpoint.RoutePattern.PathSegments.Count - 1;
        return skip >= segments.Length ? "" : string.Join('/', segments.Skip(skip).Select(Uri.UnescapeDataString));
    }
}
