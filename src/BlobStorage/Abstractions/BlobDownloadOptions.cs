namespace BlobStorage.Abstractions;

/// <summary>Which bytes of a blob to read and when to refuse.</summary>
public sealed class BlobDownloadOptions
{
    /// <summary>The byte range to read; the whole blob when null.</summary>
    public BlobRange? Range { get; init; }

    /// <summary>Conditions checked against the version that is read.</summary>
    public BlobRequestConditions? Conditions { get; init; }

    /// <summary>Receives the number of bytes read from the download's stream so far, at least every MiB and when the stream ends.</summary>
    public IProgress<long>? Progress { get; init; }
}
