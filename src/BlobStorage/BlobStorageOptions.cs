namespace BlobStorage;

/// <summary>Settings of an embedded store. Validated when the store starts; a bad one names itself.</summary>
public sealed class BlobStorageOptions
{
    /// <summary>The smallest chunk size accepted.</summary>
    public const int MinChunkSize = 64 * 1024;

    /// <summary>The largest chunk size accepted.</summary>
    public const int MaxChunkSize = 64 * 1024 * 1024;

    /// <summary>The largest part of a multipart upload: 5 GiB.</summary>
    public const long MaxPartSize = 5L * 1024 * 1024 * 1024;

    /// <summary>The folder that holds the whole store (metadata database and chunk files). Required.</summary>
    public string RootPath { get; set; } = "";

    /// <summary>The size uploads are cut into, in bytes: 64 KiB to 64 MiB. Default 4 MiB.</summary>
    public int ChunkSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Blobs up to this many bytes are kept inside the metadata store rather than as chunk files: one
    /// transaction instead of a file, a flush and a rename, and commits of many writers share one
    /// flush. 0 turns it off; at most 1 MiB and at most <see cref="ChunkSize"/>. Default 64 KiB.
    /// </summary>
    public int InlineThreshold { get; set; } = 64 * 1024;

    /// <summary>
    /// How many chunks of one upload are hashed and written at once, beyond the one being read, where chunks are held
    /// whole in memory: 1 to 16. Default 2. Concurrent uploads share this many between them: each holds the chunk it
    /// reads, and the ones written meanwhile come from the shared allowance, so memory grows by one chunk per upload,
    /// not by this many plus one. On a store with one chunk folder, chunks of the classes kept raw are written as they
    /// stream instead, a slice at a time, and this setting does not apply to them.
    /// </summary>
    public int UploadConcurrency { get; set; } = 2;

    /// <summary>How the metadata database flushes. Default <see cref="SynchronousMode.Full"/>.</summary>
    public SynchronousMode SynchronousMode { get; set; } = SynchronousMode.Full;

    /// <summary>How long a call waits for a database lock held by another connection before failing. Default 30 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a chunk no blob refers to is kept before it is deleted, so that a reader that opened
    /// the old version finishes it. Default 15 minutes; zero collects at the next pass.
    /// </summary>
    public TimeSpan GarbageCollectionGracePeriod { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the store runs its maintenance pass; <see cref="Timeout.InfiniteTimeSpan"/> turns the schedule off. Default 5 minutes.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often gathered access counts are written. Default 5 seconds.</summary>
    public TimeSpan AccessFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gathered access counts of this many blobs are written at once, whatever the interval. Default 16,384
    /// (about 1.6 MB of counts at most): a flush writes one row per blob, so a larger batch lets the downloads
    /// of a busy set of blobs add up in memory between flushes instead of rewriting the same rows.
    /// </summary>
    public int AccessFlushBatchSize { get; set; } = 16384;

    /// <summary>Every part of a multipart upload but the last must hold at least this many bytes: 1 byte to 5 GiB. Default 5 MiB.</summary>
    public long MultipartMinimumPartSize { get; set; } = 5 * 1024 * 1024;

    /// <summary>Multipart uploads started longer ago than this are aborted by the maintenance pass. Default 7 days.</summary>
    public TimeSpan AbortIncompleteMultipartUploadsAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The largest share (0 to 1) of the stored chunk files that one pass may delete as orphans (files that
    /// nothing references, left by a crash). A pass that would delete more, and more than
    /// <see cref="OrphanDeletionFloor"/> files, deletes none and logs an error instead: so many orphans at
    /// once means the metadata does not match the chunks (a database restored from an old backup, say), and
    /// deleting them would be a decision for a person. Default 0.5.
    /// </summary>
    public double MaxOrphanShare { get; set; } = 0.5;

    /// <summary>Orphans a pass may always delete, whatever <see cref="MaxOrphanShare"/> says, so a small store cleans up after a crash. Default 16.</summary>
    public int OrphanDeletionFloor { get; set; } = 16;

    /// <summary>
    /// Bytes of disk the store holds in reserve (a file beside the metadata database). When a delete,
    /// a container delete, an abort or a maintenance pass meets a full disk, the store releases the reserve
    /// and tries once more, so that space can always be freed through the store's own calls; the reserve is
    /// taken again once a maintenance pass finds room. Default 8 MiB; 0 turns it off.
    /// </summary>
    public long ReservedDiskSpace { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// The edge locations containers may be served from (such as <c>us-east-1</c>); a container's
    /// <see cref="Abstractions.CdnConfiguration.EdgeLocations"/> must name only these. Empty (the default)
    /// accepts any well-formed name.
    /// </summary>
    public IList<string> EdgeLocations { get; } = [];

    /// <summary>How many bytes each edge location keeps at most (the default in-memory edge cache): more than zero. Default 256 MiB.</summary>
    public long EdgeCacheCapacity { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Regions and their nodes (folders or chunk stores of your own), which region is local, and how the
    /// replication queue retries; see <see cref="Replication.StorageTopologyOptions"/>. Default: one node, the
    /// <c>chunks</c> folder under <see cref="RootPath"/>.
    /// </summary>
    public Replication.StorageTopologyOptions Topology { get; } = new();

    /// <summary>The addresses blobs are served under and the keys that sign URLs; see <see cref="Urls.BlobUrlOptions"/>.</summary>
    public Urls.BlobUrlOptions Urls { get; } = new();

    /// <summary>
    /// How each storage class keeps its chunks at rest, one entry per class:
    /// <c>StorageClasses[StorageClass.Archive].Compression = ChunkCompression.None</c> turns compression off for
    /// Archive. Defaults: <c>Standard</c> and <c>InfrequentAccess</c> raw, <c>Archive</c> and <c>ColdArchive</c>
    /// compressed (<see cref="Tiers.ChunkCompression.Brotli"/>). Read when the store is made.
    /// </summary>
    public IReadOnlyDictionary<Abstractions.StorageClass, Tiers.StorageClassOptions> StorageClasses { get; } = DefaultStorageClasses();

    /// <summary>
    /// How often a maintenance pass also scrubs (reads and verifies every stored copy); the other steps run every
    /// <see cref="MaintenanceInterval"/>. <see cref="Timeout.InfiniteTimeSpan"/> leaves scrubbing to calls by hand. Default 7 days.
    /// </summary>
    public TimeSpan ScrubInterval { get; set; } = TimeSpan.FromDays(7);

    internal static Dictionary<Abstractions.StorageClass, Tiers.StorageClassOptions> DefaultStorageClasses() => new()
    {
        [Abstractions.StorageClass.Standard] = new() { Compression = Tiers.ChunkCompression.None },
        [Abstractions.StorageClass.InfrequentAccess] = new() { Compression = Tiers.ChunkCompression.None },
        [Abstractions.StorageClass.Archive] = new() { Compression = Tiers.ChunkCompression.Brotli },
        [Abstractions.StorageClass.ColdArchive] = new() { Compression = Tiers.ChunkCompression.Brotli },
    };

    // Timers take periods below 2^32 - 1 milliseconds (about 49.7 days); ages are kept to ten years so that "now minus age" stays a date.
    private static readonly TimeSpan MaxTimerPeriod = TimeSpan.FromDays(49);
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(3650);

    /// <summary>Checks every setting and returns the first problem, naming the setting, or null.</summary>
    internal string? Validate() => Problems().FirstOrDefault();

    /// <summary>Problems found while binding these options from configuration (an unknown key, a value of the wrong type).</summary>
    internal List<string> BindingProblems { get; } = [];

    /// <summary>Every problem with the settings, binding problems first, each naming its setting.</summary>
    internal IEnumerable<string> Problems()
    {
        foreach (var problem in BindingProblems) yield return problem;
        if (string.IsNullOrWhiteSpace(RootPath))
            yield return $"{nameof(BlobStorageOptions)}.{nameof(RootPath)} is required: the folder that holds the store.";
        if (RootPath.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(RootPath)} '{RootPath}' contains characters that are not valid in a path.";
        if (ChunkSize is < MinChunkSize or > MaxChunkSize)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(ChunkSize)} must be between {MinChunkSize} and {MaxChunkSize} bytes; it is {ChunkSize}.";
        if (InlineThreshold < 0 || InlineThreshold > 1024 * 1024 || InlineThreshold > ChunkSize)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(InlineThreshold)} must be between 0 and 1 MiB and at most ChunkSize ({ChunkSize}); it is {InlineThreshold}.";
        if (UploadConcurrency is < 1 or > 16)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(UploadConcurrency)} must be between 1 and 16; it is {UploadConcurrency}.";
        if (!Enum.IsDefined(SynchronousMode))
            yield return $"{nameof(BlobStorageOptions)}.{nameof(SynchronousMode)} must be Full or Normal; it is {(int)SynchronousMode}.";
        if (BusyTimeout <= TimeSpan.Zero || BusyTimeout > TimeSpan.FromHours(1))
            yield return $"{nameof(BlobStorageOptions)}.{nameof(BusyTimeout)} must be more than zero and at most an hour; it is {BusyTimeout}.";
        if (GarbageCollectionGracePeriod < TimeSpan.Zero || GarbageCollectionGracePeriod > MaxAge)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(GarbageCollectionGracePeriod)} must be between zero and {MaxAge.TotalDays:F0} days; it is {GarbageCollectionGracePeriod}.";
        if ((MaintenanceInterval <= TimeSpan.Zero || MaintenanceInterval > MaxTimerPeriod) && MaintenanceInterval != Timeout.InfiniteTimeSpan)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(MaintenanceInterval)} must be positive and at most {MaxTimerPeriod.TotalDays:F0} days, or Timeout.InfiniteTimeSpan; it is {MaintenanceInterval}.";
        if (AccessFlushInterval <= TimeSpan.Zero || AccessFlushInterval > MaxTimerPeriod)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(AccessFlushInterval)} must be positive and at most {MaxTimerPeriod.TotalDays:F0} days; it is {AccessFlushInterval}.";
        if (AccessFlushBatchSize < 1)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(AccessFlushBatchSize)} must be at least 1; it is {AccessFlushBatchSize}.";
        if (MultipartMinimumPartSize is < 1 or > MaxPartSize)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(MultipartMinimumPartSize)} must be between 1 byte and 5 GiB; it is {MultipartMinimumPartSize}.";
        if (AbortIncompleteMultipartUploadsAfter <= TimeSpan.Zero || AbortIncompleteMultipartUploadsAfter > MaxAge)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(AbortIncompleteMultipartUploadsAfter)} must be positive and at most {MaxAge.TotalDays:F0} days; it is {AbortIncompleteMultipartUploadsAfter}.";
        if (!(MaxOrphanShare is >= 0 and <= 1))
            yield return $"{nameof(BlobStorageOptions)}.{nameof(MaxOrphanShare)} must be between 0 and 1; it is {MaxOrphanShare}.";
        if (OrphanDeletionFloor < 0)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(OrphanDeletionFloor)} must be zero or more; it is {OrphanDeletionFloor}.";
        if (ReservedDiskSpace is < 0 or > 1024L * 1024 * 1024)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(ReservedDiskSpace)} must be between 0 and 1 GiB; it is {ReservedDiskSpace}.";
        if (EdgeCacheCapacity <= 0)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(EdgeCacheCapacity)} must be more than zero bytes; it is {EdgeCacheCapacity}.";
        foreach (var edge in EdgeLocations)
        {
            if (!Internal.CdnRules.IsEdgeName(edge))
                yield return $"{nameof(BlobStorageOptions)}.{nameof(EdgeLocations)} holds '{edge}', which is not an edge location name: 1 to 63 lowercase letters, digits and single hyphens.";
        }

        if (EdgeLocations.Distinct(StringComparer.Ordinal).Count() != EdgeLocations.Count)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(EdgeLocations)} lists an edge location twice.";
        if ((ScrubInterval <= TimeSpan.Zero || ScrubInterval > MaxAge) && ScrubInterval != Timeout.InfiniteTimeSpan)
            yield return $"{nameof(BlobStorageOptions)}.{nameof(ScrubInterval)} must be positive and at most {MaxAge.TotalDays:F0} days, or Timeout.InfiniteTimeSpan; it is {ScrubInterval}.";
        foreach (var (storageClass, classOptions) in StorageClasses)
        {
            if (classOptions is null || !Enum.IsDefined(classOptions.Compression))
                yield return $"{nameof(BlobStorageOptions)}.{nameof(StorageClasses)}[{storageClass}].{nameof(Tiers.StorageClassOptions.Compression)} must be None or Brotli; it is {(classOptions is null ? "null" : (int)classOptions.Compression)}.";
        }

        if (Topology.Validate($"{nameof(BlobStorageOptions)}.{nameof(Topology)}", RootPath) is { } topologyProblem) yield return topologyProblem;
        if (Urls.Validate($"{nameof(BlobStorageOptions)}.{nameof(Urls)}") is { } urlProblem) yield return urlProblem;
    }
}
