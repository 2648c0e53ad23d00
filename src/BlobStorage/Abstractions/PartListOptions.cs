namespace BlobStorage.Abstractions;

/// <summary>Which page of an upload's parts to list.</summary>
public sealed class PartListOptions
{
    /// <summary>The largest page size accepted.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>List parts numbered above this; 0 for the first page.</summary>
    public int PartNumberMarker { get; init; }

    /// <summary>The most parts a page holds: 1 to 1,000. Default 1,000.</summary>
    public int PageSize { get; init; } = MaxPageSize;
}
