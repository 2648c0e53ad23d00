namespace BlobStorage.Abstractions;

/// <summary>A page of an upload's parts, in ascending part number.</summary>
public sealed class PartListPage
{
    /// <summary>The parts on this page.</summary>
    public required IReadOnlyList<UploadedPart> Parts { get; init; }

    /// <summary>Pass this as <see cref="PartListOptions.PartNumberMarker"/> for the next page; null after the last.</summary>
    public int? NextPartNumberMarker { get; init; }
}
