namespace BlobStorage.Abstractions;

/// <summary>One page of a listing, in ordinal (UTF-8 byte) order of names.</summary>
public sealed class BlobListPage
{
    /// <summary>The blobs on this page.</summary>
    public required IReadOnlyList<BlobProperties> Blobs { get; init; }

    /// <summary>Name prefixes up to and including the delimiter, each standing for every blob below it.</summary>
    public required IReadOnlyList<string> CommonPrefixes { get; init; }

    /// <summary>Pass this to list the next page; null when this was the last page.</summary>
    public string? ContinuationToken { get; init; }
}
