namespace BlobStorage.Azure;

/// <summary>Where <see cref="AzureBlobChunkStore"/> keeps its chunks, and how it retries.</summary>
public sealed class AzureBlobChunkStoreOptions
{
    /// <summary>
    /// The storage account's connection string (Azurite's works: <c>UseDevelopmentStorage=true</c> or an explicit
    /// <c>BlobEndpoint</c>). Needed by <see cref="AzureBlobChunkStore(AzureBlobChunkStoreOptions)"/>; not used when the store
    /// is given a <c>BlobContainerClient</c>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The container, which must exist (the store never creates or deletes it). Azure's rule: 3 to 63 characters,
    /// lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
    /// </summary>
    public string ContainerName { get; set; } = "";

    /// <summary>
    /// A key prefix (a virtual folder) under which the store keeps its objects, so several stores can share a container:
    /// ASCII letters, digits, <c>-</c>, <c>_</c>, <c>.</c> and <c>/</c> between segments, at most 256 characters. Default none.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>How many times a request that failed transiently (a timeout, HTTP 408, 429 or 5xx, a refused or dropped connection) is tried again, with exponential backoff and jitter. 0 to 20; default 4.</summary>
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>The wait before the first retry; each further retry waits about twice as long. Zero to a minute; default 200 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest one attempt of a request may take, its body included, before it counts as a transient failure. 10 ms to a day; default 100 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);
}
