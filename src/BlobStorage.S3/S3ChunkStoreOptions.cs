namespace BlobStorage.S3;

/// <summary>Where <see cref="S3ChunkStore"/> keeps its chunks, how it reaches the service, and how it retries.</summary>
public sealed class S3ChunkStoreOptions
{
    /// <summary>
    /// The bucket, which must exist (the store never creates or deletes it). S3's rule: 3 to 63 characters, lowercase
    /// letters, digits, dots and hyphens, starting and ending with a letter or digit, no two dots in a row, not an IP address.
    /// </summary>
    public string BucketName { get; set; } = "";

    /// <summary>
    /// A key prefix under which the store keeps its objects, so several stores can share a bucket: ASCII letters, digits,
    /// <c>-</c>, <c>_</c>, <c>.</c> and <c>/</c> between segments, at most 256 characters. Default none.
    /// </summary>
    public string? KeyPrefix { get; set; }

    /// <summary>The service's address for an S3-compatible server (MinIO, s3rver, Ceph…); null for Amazon S3 in <see cref="Region"/>.</summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>The region (Amazon S3's, or the one an S3-compatible server signs with). Default <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The access key id; with <see cref="SecretKey"/>, or neither to use the SDK's default credentials (environment, profile, instance role).</summary>
    public string? AccessKey { get; set; }

    /// <summary>The secret access key that goes with <see cref="AccessKey"/>.</summary>
    public string? SecretKey { get; set; }

    /// <summary>Addresses the bucket in the path (<c>http://host/bucket/key</c>) instead of the host name: what most S3-compatible servers need. Default false.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>How many times a request that failed transiently (a timeout, HTTP 408, 429 or 5xx, a refused or dropped connection) is tried again, with exponential backoff and jitter. 0 to 20; default 4.</summary>
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>The wait before the first retry; each further retry waits about twice as long. Zero to a minute; default 200 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest one attempt of a request may take, its body included, before it counts as a transient failure. 10 ms to a day; default 100 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);
}
