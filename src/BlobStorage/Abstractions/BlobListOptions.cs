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

    /// <summary>What each listed blob carries beyond its system properties. Default <see cref="BlobListTraits.None"/>.</summary>
    /// <remarks>
    /// As in Azure, tags and custom metadata are not listed unless asked for: without
    /// <see cref="BlobListTraits.Tags"/> a listed blob's <see cref="BlobProperties.Tags"/> is empty,
    /// and without <see cref="BlobListTraits.Metadata"/> its <see cref="BlobProperties.Metadata"/> is
    /// empty, whatever the blob holds. <see cref="IBlobStore.GetPropertiesAsync"/> always returns both.
    /// </remarks>
    public BlobListTraits Include { get; init; }
}
