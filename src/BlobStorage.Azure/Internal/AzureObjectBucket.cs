using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using BlobStorage.Chunks.Objects;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using BlobErrorCode = BlobStorage.Abstractions.BlobErrorCode;
using BlobStorageException = BlobStorage.Abstractions.BlobStorageException;

namespace BlobStorage.Azure.Internal;

/// <summary>
/// An Azure Blob Storage container as <see cref="IObjectBucket"/>: conditional creates (<c>If-None-Match: *</c>), ranged
/// downloads, paged listings; every request through a Polly pipeline (a timeout per attempt inside exponential retries
/// with jitter) and every failure left after it a <see cref="BlobErrorCode.StoreUnavailable"/> error.
/// </summary>
internal sealed class AzureObjectBucket : IObjectBucket
{
    private const int PageSize = 1000;
    private readonly BlobContainerClient _container;
    private readonly ResiliencePipeline _pipeline;
    private volatile bool _containerChecked;

    public AzureObjectBucket(BlobContainerClient container, AzureBlobChunkStoreOptions options)
    {
        _container = container;
        var builder = new ResiliencePipelineBuilder();
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }

        _pipeline = builder.AddTimeout(options.RequestTimeout).Build();

        // The address without a query string, so no SAS token ends up in a message.
        Location = $"Azure container '{container.Name}' at {container.Uri.GetLeftPart(UriPartial.Path)}";
    }

    public string Location { get; }

    public ValueTask<DateTimeOffset?> GetLastModifiedAsync(string key, CancellationToken cancellationToken) =>
        RunAsync<DateTimeOffset?>($"reading the properties of '{key}'", async token =>
        {
            try
            {
                return (await _container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: token).ConfigureAwait(false)).Value.LastModified;
            }
            catch (RequestFailedException ex) when (IsBlobMissing(ex))
            {
                return null;
            }
        }, cancellationToken);

    public ValueTask<bool> CreateAsync(string key, ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        RunAsync($"writing '{key}'", async token =>
        {
            try
            {
                // One Put Blob, created only if no blob of the name exists; a stream per attempt, so a retry starts over.
                using var body = new ObjectContentStream(head, content);
                await _container.GetBlockBlobClient(key).UploadAsync(
                    body,
                    new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                    token).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && ex.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet")
            {
                return false;
            }
        }, cancellationToken);

    public ValueTask<T> ReadAsync<T>(string key, long offset, long? length, Func<Stream?, CancellationToken, ValueTask<T>> consume, CancellationToken cancellationToken) =>
        RunAsync($"reading '{key}'", async token =>
        {
            Response<BlobDownloadStreamingResult> response;
            try
            {
                response = await _container.GetBlobClient(key).DownloadStreamingAsync(
                    new BlobDownloadOptions { Range = new HttpRange(offset, length) },
                    token).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (IsBlobMissing(ex))
            {
                return await consume(null, token).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 416)
            {
                // The blob ends before the range starts: a truncated object, which the reader reports as such.
                return await consume(Stream.Null, token).ConfigureAwait(false);
            }

            using (response.Value)
            {
                return await consume(response.Value.Content, token).ConfigureAwait(false);
            }
        }, cancellationToken);

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken) =>
        RunAsync($"deleting '{key}'", async token =>
            (await _container.GetBlobClient(key).DeleteIfExistsAsync(DeleteSnapshotsOption.None, conditions: null, token).ConfigureAwait(false)).Value,
            cancellationToken);

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        do
        {
            var from = continuation;
            var page = await RunAsync($"listing '{prefix}'", async token =>
            {
                await foreach (var first in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, token).AsPages(from, PageSize).WithCancellation(token).ConfigureAwait(false))
                {
                    return first;
                }

                return null;
            }, cancellationToken).ConfigureAwait(false);
            if (page is null) yield break;
            foreach (var item in page.Values) yield return item.Name;
            continuation = page.ContinuationToken;
        }
        while (!string.IsNullOrEmpty(continuation));
    }

    private async ValueTask<T> RunAsync<T>(string doing, Func<CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken)
    {
        if (!_containerChecked)
        {
            // A missing container would otherwise read as a store with no chunks in it: its 404 (ContainerNotFound) is a
            // failure that is not retried, so it becomes StoreUnavailable with the service's answer as the cause.
            await RunCoreAsync("checking that the container exists", async token => (await _container.GetPropertiesAsync(cancellationToken: token).ConfigureAwait(false)).Value, cancellationToken).ConfigureAwait(false);
            _containerChecked = true;
        }

        return await RunCoreAsync(doing, operation, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<T> RunCoreAsync<T>(string doing, Func<CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken)
    {
        var attempts = 0;
        try
        {
            return await _pipeline.ExecuteAsync(
                async token =>
                {
                    attempts++;
                    return await operation(token).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (IsServiceFailure(ex))
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"{Location} is unavailable: {doing} failed after {attempts} attempt{(attempts == 1 ? "" : "s")}: {Describe(ex)}", ex);
        }
    }

    private static bool IsBlobMissing(RequestFailedException ex) =>
        ex.Status == 404 && ex.ErrorCode is not "ContainerNotFound";

    /// <summary>What may pass if tried again: no answer, a timeout, throttling, a server error.</summary>
    internal static bool IsTransient(Exception ex) => ex switch
    {
        RequestFailedException failed => failed.Status is 0 or 408 or 429 or >= 500,
        HttpRequestException or IOException or SocketException or TimeoutRejectedException => true,

        // The HTTP client's own timeout (not the caller's cancellation, which is never retried).
        OperationCanceledException { InnerException: TimeoutException } => true,
        _ => false,
    };

    /// <summary>What the service or the network throws; everything else (a corrupt chunk, a bad argument) passes through as it is.</summary>
    private static bool IsServiceFailure(Exception ex) =>
        ex is RequestFailedException or HttpRequestException or IOException or SocketException or TimeoutRejectedException or AggregateException
        || (ex is OperationCanceledException && ex.InnerException is TimeoutException);

    private static string Describe(Exception ex) => ex switch
    {
        RequestFailedException { Status: 403 } failed => $"the credentials were refused (HTTP 403 {failed.ErrorCode}); check the account name and key, or the SAS token.",
        RequestFailedException { Status: 404, ErrorCode: "ContainerNotFound" or null } => "the container does not exist (HTTP 404 ContainerNotFound); create it, or name an existing one.",
        RequestFailedException { Status: 0 } failed => $"no answer from the service ({failed.InnerException?.Message ?? failed.Message}).",
        RequestFailedException failed => $"HTTP {failed.Status} {failed.ErrorCode}: {FirstLine(failed.Message)}",
        TimeoutRejectedException => "no answer within the request timeout (AzureBlobChunkStoreOptions.RequestTimeout).",
        _ => FirstLine(ex.Message),
    };

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
