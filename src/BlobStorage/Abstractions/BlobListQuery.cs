namespace BlobStorage.Abstractions;

/// <summary>A page request to the metadata store. Names compare as UTF-8 bytes.</summary>
public sealed class BlobListQuery
{
    /// <summary>Only names starting with this.</summary>
    public string? Prefix { get; init; }

    /// <summary>Groups names on this after the prefix.</summary>
    public string? Delimiter { get; init; }

    /// <summary>The inclusive lower bound of the page, as UTF-8 bytes (not always valid UTF-8); null for the start.</summary>
    public byte[]? StartAt { get; init; }

    /// <summary>The most entries (blobs plus common prefixes) to return.</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>Which of tags and metadata to read; the others are returned empty.</summary>
    public BlobListTraits Include { get; init; }
}
