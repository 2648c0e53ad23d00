namespace BlobStorage.Abstractions;

/// <summary>A page of blobs from the metadata store.</summary>
public sealed class BlobListing
{
    /// <summary>The blobs, in UTF-8 byte order of names.</summary>
    public required IReadOnlyList<BlobProperties> Blobs { get; init; }

    /// <summary>The common prefixes, in order.</summary>
    public required IReadOnlyList<string> CommonPrefixes { get; init; }

    /// <summary>The lower bound to pass as <see cref="BlobListQuery.StartAt"/> for the next page; null after the last.</summary>
    public byte[]? NextStartAt { get; init; }
}
