namespace BlobStorage.Abstractions;

/// <summary>Which page of a container's blobs to list.</summary>
public sealed class BlobListOptions
{
    /// <summary>The largest page size accepted.</summary>
    public const int MaxPageSize = 5000;

    /// <summary>Only names that start with this (case-sensitive, literal).</summary>
    public string? Prefix { get; init; }

    /// <summary>Groups names that contain this after the prefix into <see cref="BlobListPage.CommonPrefixes"/>; usually <c>"/"</c>.</summary>
    public string? Delimiter { get; init; }

    /// <summary>The most entries (blobs and common prefixes) a page holds: 1 to 5,000. Default 1,000.</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>The token of the previous page, to continue after it.</summary>
    public string? ContinuationToken { get; init; }
}
