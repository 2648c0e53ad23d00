namespace BlobStorage.Abstractions;

/// <summary>The reason a <see cref="BlobStorageException"/> was thrown; stable across versions.</summary>
public enum BlobErrorCode
{
    /// <summary>The named container does not exist.</summary>
    ContainerNotFound = 1,

    /// <summary>A container with that name already exists.</summary>
    ContainerAlreadyExists = 2,

    /// <summary>The container still holds blobs and deleting its contents was not asked for.</summary>
    ContainerNotEmpty = 3,

    /// <summary>The named blob does not exist.</summary>
    BlobNotFound = 4,

    /// <summary>An <c>IfMatch</c>, <c>IfNoneMatch</c> or date condition did not hold.</summary>
    ConditionNotMet = 5,

    /// <summary>The requested byte range lies outside the blob.</summary>
    InvalidRange = 6,

    /// <summary>The multipart upload does not exist (never started, completed or aborted).</summary>
    UploadNotFound = 7,

    /// <summary>A part of a multipart upload is missing, unknown, mismatched or too small.</summary>
    InvalidPart = 8,

    /// <summary>Stored bytes failed their checksum or are missing, and no good copy was found.</summary>
    DataCorruption = 9,

    /// <summary>The uploaded content did not match the SHA-256 the caller said it would have.</summary>
    ContentHashMismatch = 10,

    /// <summary>The store is held by another process or could not be opened.</summary>
    StoreUnavailable = 11,

    /// <summary>The metadata store stayed locked by another connection for longer than the busy timeout; nothing was changed.</summary>
    StoreBusy = 12,

    /// <summary>The disk (or quota) holding the store is full; nothing was changed. Deleting blobs and running maintenance frees space.</summary>
    InsufficientStorage = 13,

    /// <summary>The operating system refused access to a file or folder of the store (its permissions, or a folder where a file should be).</summary>
    AccessDenied = 14,

    /// <summary>The disk reported an input/output error; the operation did not complete and changed nothing it acknowledged.</summary>
    IOError = 15,

    /// <summary>An edge location is not one the store was configured with (<see cref="BlobStorageOptions.EdgeLocations"/>).</summary>
    UnknownEdgeLocation = 20,

    /// <summary>The container does not serve blobs through that edge: its CDN is disabled or the edge is not one of its locations.</summary>
    CdnNotEnabled = 21,

    /// <summary>A feature was used that the options do not configure: no base address for URLs, or no key to sign them with.</summary>
    NotConfigured = 22,

    /// <summary>A CDN custom domain is already the domain of another container: a domain serves one container.</summary>
    CustomDomainInUse = 43,

    /// <summary>The storage topology cannot keep a container of the requested <see cref="ReplicationStrategy"/> (too few local nodes, or no other region).</summary>
    ReplicationNotSatisfiable = 23,

    /// <summary>The blob is in <see cref="StorageClass.ColdArchive"/>, which is offline: rehydrate it (<see cref="IBlobStore.RehydrateAsync"/>) before reading it.</summary>
    BlobArchived = 30,

    /// <summary>A backup was refused: its destination is inside the store, or a folder that is neither empty nor an earlier backup of this store; nothing was written.</summary>
    BackupRefused = 37,

    /// <summary>The operation needs the default services (SQLite metadata and file-system chunks) and the store was built with others.</summary>
    NotSupported = 38,
}
