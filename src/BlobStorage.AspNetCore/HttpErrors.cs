using System.Text.Json;
using BlobStorage.Abstractions;
using BlobStorage.Urls;
using Microsoft.AspNetCore.Http;

namespace BlobStorage.AspNetCore;

/// <summary>Failures as HTTP responses: a status and a JSON body with a code and a reason, never a stack trace.</summary>
internal static class HttpErrors
{
    public static int StatusOf(BlobErrorCode code) => code switch
    {
        BlobErrorCode.ContainerNotFound or BlobErrorCode.BlobNotFound or BlobErrorCode.UploadNotFound => StatusCodes.Status404NotFound,
        BlobErrorCode.ContainerAlreadyExists or BlobErrorCode.ContainerNotEmpty or BlobErrorCode.CustomDomainInUse or BlobErrorCode.BlobArchived => StatusCodes.Status409Conflict,
        BlobErrorCode.ConditionNotMet => StatusCodes.Status412PreconditionFailed,
        BlobErrorCode.InvalidRange => StatusCodes.Status416RangeNotSatisfiable,
        BlobErrorCode.InvalidPart or BlobErrorCode.ContentHashMismatch or BlobErrorCode.UnknownEdgeLocation => StatusCodes.Status400BadRequest,
        BlobErrorCode.CdnNotEnabled => StatusCodes.Status404NotFound,
        BlobErrorCode.StoreBusy or BlobErrorCode.StoreUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static Task WriteAsync(HttpContext context, int status, string error, string reason)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method)) return Task.CompletedTask;
        return context.Response.WriteAsJsonAsync(new ErrorBody(error, reason), HttpJson.Options, context.RequestAborted);
    }

    public static Task RefuseAsync(HttpContext context, SignedUrlVerification verification) =>
        WriteAsync(context, StatusCodes.Status403Forbidden, verification.Status.ToString(), verification.Reason);

    public static Task WriteAsync(HttpContext context, BlobStorageException exception)
    {
        var status = StatusOf(exception.ErrorCode);

        // A failure of the store itself says what failed, not where: its message may name files on the server.
        var reason = status >= 500 ? "The store could not serve the request." : exception.Message;
        return WriteAsync(context, status, exception.ErrorCode.ToString(), reason);
    }

    internal sealed record ErrorBody(string Error, string Reason);
}

/// <summary>The JSON shape of every response body: camelCase, as web clients expect.</summary>
internal static class HttpJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
