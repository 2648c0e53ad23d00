namespace BlobStorage.Abstractions;

/// <summary>The properties of the current version of a blob.</summary>
public sealed record BlobProperties
{
    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    /// <summary>The container that holds the blob.</summary>
    public required string Container { get; init; }

    /// <summary>The blob's name.</summary>
    public required string Name { get; init; }

    /// <summary>Identifies this version of the blob; a new upload, copy or overwrite gets a new one.</summary>
    public required string VersionId { get; init; }

    /// <summary>The length of the content in bytes.</summary>
    public long Size { get; init; }

    /// <summary>The content's media type.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>The entity tag: changes whenever the content or its metadata change. Quoted, as in HTTP.</summary>
    public required string ETag { get; init; }

    /// <summary>The SHA-256 of the content as 64 lowercase hexadecimal characters.</summary>
    public required string ContentHash { get; init; }

    /// <summary>The blob's storage class.</summary>
    public StorageClass StorageClass { get; init; }

    /// <summary>
    /// The class a rehydration asked for by <see cref="IBlobStore.RehydrateAsync"/> brings this
    /// <see cref="StorageClass.ColdArchive"/> blob to at the next maintenance pass (Azure's
    /// <c>rehydrate-pending-to-hot</c>); null when no rehydration is pending.
    /// </summary>
    public StorageClass? RehydratingTo { get; init; }

    /// <summary>When a blob of this name was first created (kept across overwrites).</summary>
    public DateTimeOffset CreatedOn { get; init; }

    /// <summary>When the content or metadata last changed.</summary>
    public DateTimeOffset LastModified { get; init; }

    /// <summary>How many times the blob has been downloaded (counted in batches, so it may lag by a few seconds).</summary>
    public long AccessCount { get; init; }

    /// <summary>When the blob was last downloaded, or null if never.</summary>
    public DateTimeOffset? LastAccessedOn { get; init; }

    /// <summary>How many parts the blob was assembled from by a multipart upload; 0 for a single upload.</summary>
    /// <remarks>
    /// For a multipart blob <see cref="ContentHash"/> is not the SHA-256 of the content but, as S3
    /// does, the SHA-256 of the parts' binary SHA-256s concatenated in order, followed by a hyphen and
    /// the part count (<c>"9f86…08-3"</c>); its ETag is that value quoted.
    /// </remarks>
    public int PartCount { get; init; }

    /// <summary>
    /// Whether every copy the container's strategy asks for is written: false while a copy of one of the blob's
    /// chunks waits in the replication queue (a copy in another region, or a local copy an upload returned
    /// without). Set by <see cref="IBlobStore.GetPropertiesAsync"/> for containers that keep more than one copy;
    /// null for a <see cref="ReplicationStrategy.Single"/> container (one copy, durable before the upload
    /// returned: nothing to replicate) and where it is not looked up (uploads, listings, downloads). A copy lost later (a failed disk) is found by <see cref="IBlobStore.ScrubAsync"/>, which rewrites it;
    /// <see cref="IBlobStore.GetLocationsAsync"/> looks at every copy.
    /// </summary>
    public bool? IsFullyReplicated { get; init; }

    /// <summary>Index tags: at most 10, keys up to 128 and values up to 256 characters.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = Empty;

    /// <summary>Custom metadata: at most 8 KiB of keys and values in all.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = Empty;
}
