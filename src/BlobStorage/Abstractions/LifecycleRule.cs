namespace BlobStorage.Abstractions;

/// <summary>
/// One rule of a container's lifecycle, as in S3 and Azure lifecycle management: blobs whose names start with
/// <see cref="Prefix"/> are moved to <see cref="StorageClass"/> (or deleted) once <see cref="DaysAfter"/> days
/// have passed since their last modification (or last download). Maintenance applies the rules on each pass,
/// by the store's <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// When several rules apply to a blob, a delete wins, then the move to the coldest class. A move only ever goes
/// to a colder class than the blob's own: lifecycle never rehydrates an archived blob.
/// </remarks>
public sealed record LifecycleRule
{
    /// <summary>The rule's name, unique in its container: 1 to 64 letters, digits, '-', '_' or '.'.</summary>
    public required string Name { get; init; }

    /// <summary>Only blobs whose names start with this (ordinal); null or empty for every blob of the container.</summary>
    public string? Prefix { get; init; }

    /// <summary>What the rule does. Default <see cref="LifecycleAction.SetStorageClass"/>.</summary>
    public LifecycleAction Action { get; init; } = LifecycleAction.SetStorageClass;

    /// <summary>The class a <see cref="LifecycleAction.SetStorageClass"/> rule moves blobs to; must be null for a delete.</summary>
    public StorageClass? StorageClass { get; init; }

    /// <summary>Whole days, 0 to 36,500, after the <see cref="Basis"/> time that a blob is acted on.</summary>
    public int DaysAfter { get; init; }

    /// <summary>
    /// The time the days count from. Default <see cref="LifecycleBasis.LastModified"/>. A delete counts only from
    /// the last modification; a blob never downloaded counts its last access from its last modification.
    /// </summary>
    public LifecycleBasis Basis { get; init; } = LifecycleBasis.LastModified;
}
