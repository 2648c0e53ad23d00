namespace BlobStorage.Abstractions;

/// <summary>How to copy a blob. A copy shares the source's chunks: no byte is copied.</summary>
public sealed class BlobCopyOptions
{
    /// <summary>Conditions on the source blob.</summary>
    public BlobRequestConditions? SourceConditions { get; init; }

    /// <summary>Conditions on the destination blob (<c>IfNoneMatch = "*"</c> to refuse an overwrite).</summary>
    public BlobRequestConditions? DestinationConditions { get; init; }

    /// <summary>The copy's content type; the source's when null.</summary>
    public string? ContentType { get; init; }

    /// <summary>The copy's storage class; the source's when null.</summary>
    public StorageClass? StorageClass { get; init; }

    /// <summary>The copy's tags; the source's when null.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The copy's custom metadata; the source's when null.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
