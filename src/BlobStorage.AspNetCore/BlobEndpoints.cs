using System.Globalization;
using BlobStorage.Abstractions;
using BlobStorage.Urls;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace BlobStorage.AspNetCore;

/// <summary>The handlers <c>MapBlobStorage</c> maps.</summary>
internal static class BlobEndpoints
{
    public static Task ReadAsync(HttpContext context) => RunAsync(context, ReadCoreAsync);

    /// <summary>A read sent to a container's custom domain: the host names the container, the whole path is the blob's name.</summary>
    public static Task ReadFromCustomDomainAsync(HttpContext context) => RunAsync(context, async (context, store, cancellationToken) =>
    {
        string? container;
        try
        {
            container = await store.FindContainerByCustomDomainAsync(context.Request.Host.Host, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            container = null;
        }

        if (container is null)
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status404NotFound, "NotFound", "No container is served at this host.").ConfigureAwait(false);
            return;
        }

        context.Request.RouteValues["container"] = container;
        await ReadCoreAsync(context, store, cancellationToken).ConfigureAwait(false);
    });

    public static Task UploadAsync(HttpContext context) => RunAsync(context, UploadCoreAsync);

    public static Task DeleteAsync(HttpContext context) => RunAsync(context, DeleteCoreAsync);

    public static Task ListAsync(HttpContext context) => RunAsync(context, ListCoreAsync);

    private static async Task ReadCoreAsync(HttpContext context, IBlobStore store, CancellationToken cancellationToken)
    {
        var container = HttpBlobPath.Container(context);
        var name = HttpBlobPath.Name(context);
        var containerProperties = await store.GetContainerAsync(container, cancellationToken).ConfigureAwait(false);
        if (containerProperties.AccessPolicy != AccessPolicy.Public && !await GrantedAsync(context, container, name, BlobPermissions.Read).ConfigureAwait(false)) return;

        var cdn = await store.GetCdnConfigurationAsync(container, cancellationToken).ConfigureAwait(false);
        var cacheControl = CacheControl(cdn, containerProperties.AccessPolicy);
        var headers = context.Request.GetTypedHeaders();
        var edge = context.Request.Query["edge"] is { Count: > 0 } edges ? edges[0] : null;
        var head = HttpMethods.IsHead(context.Request.Method);
        BlobDownload download;
        BlobRange? range;
        try
        {
            range = await RangeToReadAsync(store, headers, container, name, cancellationToken).ConfigureAwait(false);
            if (head)
            {
                // Properties only: a HEAD reads no content and is not counted as a download.
                var properties = await store.GetPropertiesAsync(container, name, cancellationToken).ConfigureAwait(false);
                var (offset, length) = range is { } r ? Resolve(r, properties.Size, container, name) : (0L, properties.Size);
                if (await EndedByConditionsAsync(context, headers, properties, cacheControl).ConfigureAwait(false)) return;
                WriteHeaders(context, properties, cacheControl, offset, length, partial: range is not null);
                return;
            }

            var options = new BlobDownloadOptions { Range = range };
            download = edge is null
                ? await store.DownloadAsync(container, name, options, cancellationToken).ConfigureAwait(false)
                : await store.DownloadFromEdgeAsync(edge, container, name, options, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRangeException)
        {
            // Conditions come before the range: a 304 or 412 wins over a 416.
            var properties = await store.GetPropertiesAsync(container, name, cancellationToken).ConfigureAwait(false);
            if (await EndedByConditionsAsync(context, headers, properties, cacheControl).ConfigureAwait(false)) return;
            context.Response.Headers.ContentRange = $"bytes */{properties.Size.ToString(CultureInfo.InvariantCulture)}";
            await HttpErrors.WriteAsync(context, StatusCodes.Status416RangeNotSatisfiable, nameof(BlobErrorCode.InvalidRange), $"The range lies outside the blob's {properties.Size} bytes.").ConfigureAwait(false);
            return;
        }

        await using (download.ConfigureAwait(false))
        {
            // Checked against the very version being sent.
            if (await EndedByConditionsAsync(context, headers, download.Properties, cacheControl).ConfigureAwait(false)) return;
            WriteHeaders(context, download.Properties, cacheControl, download.Offset, download.Length, partial: range is not null);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await download.Content.CopyToAsync(context.Response.Body, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task UploadCoreAsync(HttpContext context, IBlobStore store, CancellationToken cancellationToken)
    {
        var container = HttpBlobPath.Container(context);
        var name = HttpBlobPath.Name(context);
        if (!await GrantedAsync(context, container, name, BlobPermissions.Write).ConfigureAwait(false)) return;

        // Streamed into chunks, never held whole: the server's default cap on a body's size does not apply.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        var headers = context.Request.GetTypedHeaders();
        var options = new BlobUploadOptions
        {
            ContentType = context.Request.ContentType,
            Conditions = WriteConditions(headers),
        };
        var stored = await store.UploadAsync(container, name, context.Request.Body, options, cancellationToken).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.Headers.ETag = stored.ETag;
        context.Response.Headers.LastModified = HttpDate(stored.LastModified);
        await context.Response.WriteAsJsonAsync(BlobEntry.From(stored), HttpJson.Options, cancellationToken).ConfigureAwait(false);
    }

    private static async Task DeleteCoreAsync(HttpContext context, IBlobStore store, CancellationToken cancellationToken)
    {
        var container = HttpBlobPath.Container(context);
        var name = HttpBlobPath.Name(context);
        if (!await GrantedAsync(context, container, name, BlobPermissions.Delete).ConfigureAwait(false)) return;

        await store.DeleteAsync(container, name, WriteConditions(context.Request.GetTypedHeaders()), cancellationToken).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task ListCoreAsync(HttpContext context, IBlobStore store, CancellationToken cancellationToken)
    {
        var container = HttpBlobPath.Container(context);
        if (!await GrantedAsync(context, container, null, BlobPermissions.List).ConfigureAwait(false)) return;

        var query = context.Request.Query;
        var pageSize = 1000;
        if (query["maxresults"] is { Count: > 0 } size && !int.TryParse(size[0], NumberStyles.None, CultureInfo.InvariantCulture, out pageSize))
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "BadRequest", "maxresults must be a whole number.").ConfigureAwait(false);
            return;
        }

        var page = await store.ListAsync(
            container,
            new BlobListOptions
            {
                Prefix = First(query["prefix"]),
                Delimiter = First(query["delimiter"]),
                ContinuationToken = First(query["continuation"]),
                PageSize = pageSize,
            },
            cancellationToken).ConfigureAwait(false);
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(
            new ListBody(container, [.. page.Blobs.Select(BlobEntry.From)], page.CommonPrefixes, page.ContinuationToken),
            HttpJson.Options,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a handler, turning the store's typed failures into responses and a client that left into nothing.</summary>
    private static async Task RunAsync(HttpContext context, Func<HttpContext, IBlobStore, CancellationToken, Task> handler)
    {
        var store = context.RequestServices.GetRequiredService<IBlobStore>();
        var cancellationToken = context.RequestAborted;
        try
        {
            await handler(context, store, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; disposing the download released its chunks.
        }
        catch (Exception ex) when (context.Response.HasStarted && ex is BlobStorageException or IOException)
        {
            // Headers are gone: the only honest way left to say "failed" is to cut the response short.
            context.Abort();
        }
        catch (BlobStorageException ex)
        {
            await HttpErrors.WriteAsync(context, ex).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "BadRequest", ex.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            await HttpErrors.WriteAsync(context, ex.StatusCode, "BadRequest", ex.Message).ConfigureAwait(false);
        }
    }

    /// <summary>True when the request's signed URL grants <paramref name="permission"/>; otherwise writes the 403 that says why.</summary>
    private static async ValueTask<bool> GrantedAsync(HttpContext context, string container, string? name, BlobPermissions permission)
    {
        var verification = context.RequestServices.GetRequiredService<IBlobUrlProvider>().Verify(container, name, context.Request.QueryString.Value, permission);
        if (verification.IsValid) return true;
        await HttpErrors.RefuseAsync(context, verification).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// The range to read, or null for the whole blob: one range of bytes (several are served whole, as RFC 9110
    /// allows), ignored when <c>If-Range</c> names another version.
    /// </summary>
    private static async ValueTask<BlobRange?> RangeToReadAsync(IBlobStore store, RequestHeaders headers, string container, string name, CancellationToken cancellationToken)
    {
        if (headers.Range is not { Unit.Value: "bytes", Ranges.Count: 1 } header) return null;
        var item = header.Ranges.First();
        if (headers.IfRange is { } ifRange)
        {
            var current = await store.GetPropertiesAsync(container, name, cancellationToken).ConfigureAwait(false);
            var same = ifRange.EntityTag is { } tag
                ? !tag.IsWeak && tag.Tag.Value == current.ETag
                : ifRange.LastModified is { } date && Seconds(current.LastModified) <= date;
            if (!same) return null;
        }

        return item switch
        {
            { From: { } from, To: { } to } => new BlobRange(from, to - from + 1),
            { From: { } from } => new BlobRange(from),

            { To: 0 } => throw new InvalidRangeException("The range 'bytes=-0' asks for no byte."),
            { To: { } suffix } => BlobRange.Last(suffix),
            _ => null,
        };
    }

    /// <summary>A range against a size, as the store resolves it for a download.</summary>
    private static (long Offset, long Length) Resolve(BlobRange range, long size, string container, string name)
    {
        if (range.IsSuffix && size > 0) return (size - Math.Min(range.Length!.Value, size), Math.Min(range.Length!.Value, size));
        if (range.IsSuffix || range.Offset >= size) throw new InvalidRangeException($"The range lies outside blob '{name}' in container '{container}' ({size} bytes).");
        return (range.Offset, Math.Min(range.Length ?? long.MaxValue, size - range.Offset));
    }

    /// <summary>Answers 412 or 304 when a condition says so (RFC 9110 order); true when it did.</summary>
    private static async Task<bool> EndedByConditionsAsync(HttpContext context, RequestHeaders headers, BlobProperties properties, string cacheControl)
    {
        var modified = Seconds(properties.LastModified);
        var ifMatch = headers.IfMatch;
        if (ifMatch.Count > 0 ? !ifMatch.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag.Value == properties.ETag))
            : headers.IfUnmodifiedSince is { } unmodifiedSince && modified > unmodifiedSince)
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status412PreconditionFailed, nameof(BlobErrorCode.ConditionNotMet), "A precondition (If-Match or If-Unmodified-Since) did not hold.").ConfigureAwait(false);
            return true;
        }

        var ifNoneMatch = headers.IfNoneMatch;
        var notModified = ifNoneMatch.Count > 0
            ? ifNoneMatch.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Value == properties.ETag)
            : headers.IfModifiedSince is { } since && modified <= since;
        if (!notModified) return false;
        context.Response.StatusCode = StatusCodes.Status304NotModified;
        context.Response.Headers.ETag = properties.ETag;
        context.Response.Headers.LastModified = HttpDate(properties.LastModified);
        context.Response.Headers.CacheControl = cacheControl;
        return true;
    }

    private static void WriteHeaders(HttpContext context, BlobProperties properties, string cacheControl, long offset, long length, bool partial)
    {
        var response = context.Response;
        response.StatusCode = partial ? StatusCodes.Status206PartialContent : StatusCodes.Status200OK;
        response.ContentType = properties.ContentType;
        response.ContentLength = length;
        response.Headers.ETag = properties.ETag;
        response.Headers.LastModified = HttpDate(properties.LastModified);
        response.Headers.AcceptRanges = "bytes";
        response.Headers.CacheControl = cacheControl;
        if (partial)
        {
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{offset + length - 1}/{properties.Size}");
        }
    }

    private static BlobRequestConditions? WriteConditions(RequestHeaders headers)
    {
        var ifMatch = headers.IfMatch.Count == 1 ? Tag(headers.IfMatch[0]) : null;
        var ifNoneMatch = headers.IfNoneMatch.Count == 1 ? Tag(headers.IfNoneMatch[0]) : null;
        if (headers.IfMatch.Count > 1 || headers.IfNoneMatch.Count > 1)
        {
            throw new ArgumentException("A write takes at most one ETag in If-Match and one in If-None-Match.");
        }

        return ifMatch is null && ifNoneMatch is null && headers.IfUnmodifiedSince is null
            ? null
            : new BlobRequestConditions { IfMatch = ifMatch, IfNoneMatch = ifNoneMatch, IfUnmodifiedSince = headers.IfUnmodifiedSince };

        static string Tag(EntityTagHeaderValue tag) => tag.Equals(EntityTagHeaderValue.Any) ? "*" : tag.Tag.Value!;
    }

    /// <summary>
    /// The container's <c>Cache-Control</c>: its own value, else one made from its TTL (shared caches only for
    /// public containers), else, with the CDN off, revalidation on every use.
    /// </summary>
    private static string CacheControl(CdnConfiguration cdn, AccessPolicy policy) =>
        cdn.CacheControl
        ?? (cdn.Enabled
            ? string.Create(CultureInfo.InvariantCulture, $"{(policy == AccessPolicy.Public ? "public" : "private")}, max-age={(long)cdn.TimeToLive.TotalSeconds}")
            : "no-cache");

    // HTTP dates have whole seconds; comparisons use the same precision the client saw.
    private static DateTimeOffset Seconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

    private static string HttpDate(DateTimeOffset time) => time.ToUniversalTime().ToString("R", CultureInfo.InvariantCulture);

    private static string? First(Microsoft.Extensions.Primitives.StringValues values) => values.Count > 0 ? values[0] : null;

    internal sealed record BlobEntry(string Name, long Size, string ContentType, string ETag, DateTimeOffset LastModified, string ContentHash)
    {
        public static BlobEntry From(BlobProperties p) => new(p.Name, p.Size, p.ContentType, p.ETag, p.LastModified, p.ContentHash);
    }

    internal sealed record ListBody(string Container, IReadOnlyList<BlobEntry> Blobs, IReadOnlyList<string> Prefixes, string? Continuation);
}
