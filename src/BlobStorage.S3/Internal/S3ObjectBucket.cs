using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.Objects;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace BlobStorage.S3.Internal;

/// <summary>
/// An S3 bucket as <see cref="IObjectBucket"/>. S3-compatible servers differ in what they honour, so a create looks first
/// (HEAD) and then puts with <c>If-None-Match: *</c>: Amazon S3 refuses the put when another writer got there between the
/// two (HTTP 412, reported as "already stored"); a server that ignores the header (s3rver) overwrites with the same bytes,
/// which is harmless for a chunk named by its content. Every request goes through a Polly pipeline (a timeout per attempt
/// inside exponential retries with jitter); every failure left after it is a <see cref="BlobErrorCode.StoreUnavailable"/> error.
/// </summary>
internal sealed class S3ObjectBucket : IObjectBucket
{
    private const int PageSize = 1000;
    private readonly IAmazonS3 _client;
    private readonly string _bucket;
    private readonly ResiliencePipeline _pipeline;
    private volatile bool _bucketChecked;

    public S3ObjectBucket(IAmazonS3 client, S3ChunkStoreOptions options)
    {
        _client = client;
        _bucket = options.BucketName;
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
        var where = client.Config.ServiceURL is { Length: > 0 } url ? $" at {url}" : $" in {options.Region}";
        Location = $"S3 bucket '{_bucket}'{where}";
    }

    public string Location { get; }

    public ValueTask<DateTimeOffset?> GetLastModifiedAsync(string key, CancellationToken cancellationToken) =>
        RunAsync($"reading the metadata of '{key}'", token => HeadAsync(key, token), cancellationToken);

    private async ValueTask<DateTimeOffset?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return response.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime()) : DateTimeOffset.MinValue;
        }
        catch (AmazonS3Exception ex) when (IsObjectMissing(ex))
        {
            return null;
        }
    }

    public ValueTask<bool> CreateAsync(string key, ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        RunAsync($"writing '{key}'", async token =>
        {
            if (await HeadAsync(key, token).ConfigureAwait(false) is not null) return false;
            try
            {
                using var body = new ObjectContentStream(head, content);
                await _client.PutObjectAsync(
                    new PutObjectRequest
                    {
                        BucketName = _bucket,
                        Key = key,
                        InputStream = body,
                        AutoCloseStream = false,
                        IfNoneMatch = "*",

                        // A seekable body of known length, signed whole: no aws-chunked encoding, which not every S3-compatible server reads.
                        UseChunkEncoding = false,
                    },
                    token).ConfigureAwait(false);
                return true;
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                return false;
            }
        }, cancellationToken);

    public ValueTask<T> ReadAsync<T>(string key, long offset, long? length, Func<Stream?, CancellationToken, ValueTask<T>> consume, CancellationToken cancellationToken) =>
        RunAsync($"reading '{key}'", async token =>
        {
            var request = new GetObjectRequest { BucketName = _bucket, Key = key };
            if (length is { } count) request.ByteRange = new ByteRange(offset, offset + count - 1);
            else if (offset > 0) request.ByteRange = new ByteRange($"bytes={offset}-");
            GetObjectResponse response;
            try
            {
                response = await _client.GetObjectAsync(request, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (IsObjectMissing(ex))
            {
                return await consume(null, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The object ends before the range starts: a truncated object, which the reader reports as such.
                return await consume(Stream.Null, token).ConfigureAwait(false);
            }

            using (response)
            {
                return await consume(response.ResponseStream, token).ConfigureAwait(false);
            }
        }, cancellationToken);

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken) =>
        RunAsync($"deleting '{key}'", async token =>
        {
            // S3 answers a delete the same whether or not the object was there: the HEAD tells which.
            if (await HeadAsync(key, token).ConfigureAwait(false) is null) return false;
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        while (true)
        {
            var from = continuation;
            var page = await RunAsync(
                $"listing '{prefix}'",
                async token => await _client.ListObjectsV2Async(
                    new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, ContinuationToken = from, MaxKeys = PageSize },
                    token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            foreach (var item in page.S3Objects ?? []) yield return item.Key;
            continuation = page.NextContinuationToken;
            if (page.IsTruncated != true || string.IsNullOrEmpty(continuation)) yield break;
        }
    }

    private async ValueTask<T> RunAsync<T>(string doing, Func<CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken)
    {
        if (!_bucketChecked)
        {
            // A HEAD of an object in a missing bucket is a bare 404, the same as a missing object: ask about the bucket once.
            await RunCoreAsync(
                "checking that the bucket exists",
                async token => await _client.HeadBucketAsync(new HeadBucketRequest { BucketName = _bucket }, token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            _bucketChecked = true;
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

    private static bool IsObjectMissing(AmazonS3Exception ex) =>
        ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode is not "NoSuchBucket";

    /// <summary>What may pass if tried again: no answer, a timeout, throttling, a server error.</summary>
    internal static bool IsTransient(Exception ex) => ex switch
    {
        AmazonServiceException service => (int)service.StatusCode is 0 or 408 or 429 or >= 500
            || service.ErrorCode is "RequestTimeout" or "SlowDown" or "ConditionalRequestConflict"
            || (service.InnerException is { } inner && IsTransient(inner)),
        AmazonClientException client => client.InnerException is { } inner && IsTransient(inner),
        HttpRequestException or IOException or SocketException or TimeoutRejectedException => true,

        // The HTTP client's own timeout (not the caller's cancellation, which is never retried).
        OperationCanceledException { InnerException: TimeoutException } => true,
        _ => false,
    };

    /// <summary>What the service, the SDK or the network throws; everything else (a corrupt chunk, a bad argument) passes through as it is.</summary>
    private static bool IsServiceFailure(Exception ex) =>
        ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException or TimeoutRejectedException or AggregateException
        || (ex is OperationCanceledException && ex.InnerException is TimeoutException);

    private static string Describe(Exception ex) => ex switch
    {
        AmazonServiceException { StatusCode: HttpStatusCode.Forbidden } or AmazonServiceException { ErrorCode: "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" } =>
            $"the credentials were refused ({Code(ex)}); check the access key and secret.",
        AmazonServiceException { ErrorCode: "NoSuchBucket" } or AmazonServiceException { StatusCode: HttpStatusCode.NotFound } =>
            $"the bucket does not exist ({Code(ex)}); create it (the store never creates or deletes it), or name an existing one in {nameof(S3ChunkStoreOptions)}.{nameof(S3ChunkStoreOptions.BucketName)}.",
        AmazonServiceException => $"{Code(ex)}: {FirstLine(ex.Message)}",
        TimeoutRejectedException => $"no answer within the request timeout ({nameof(S3ChunkStoreOptions)}.{nameof(S3ChunkStoreOptions.RequestTimeout)}).",
        _ when ex.InnerException is { } inner => $"{FirstLine(ex.Message)} ({FirstLine(inner.Message)})",
        _ => FirstLine(ex.Message),
    };

    private static string Code(Exception ex) => ex is AmazonServiceException service
        ? $"HTTP {(int)service.StatusCode}{(string.IsNullOrEmpty(service.ErrorCode) ? "" : " " + service.ErrorCode)}"
        : ex.GetType().Name;

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
