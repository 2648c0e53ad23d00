namespace BlobStorage.Abstractions;

/// <summary>A change to a blob's tags and custom metadata. Its content is not touched.</summary>
public sealed class BlobMetadataUpdate
{
    /// <summary>Tags to apply; null leaves the tags as they are.</summary>
    public IReadOnlyDictionary<string, string?>? Tags { get; init; }

    /// <summary>Custom metadata to apply; null leaves it as it is.</summary>
    public IReadOnlyDictionary<string, string?>? Metadata { get; init; }

    /// <summary>Merge into or replace the existing dictionaries. Default <see cref="MetadataUpdateMode.Merge"/>.</summary>
    public MetadataUpdateMode Mode { get; init; } = MetadataUpdateMode.Merge;

    /// <summary>Conditions checked atomically with the update.</summary>
    public BlobRequestConditions? Conditions { get; init; }
}
