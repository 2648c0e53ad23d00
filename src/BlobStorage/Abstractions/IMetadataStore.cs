namespace BlobStorage.Abstractions;

/// <summary>
/// Keeps containers, blobs with their chunk lists, chunk reference counts and statistics.
/// Every change is one transaction that checks its conditions and adjusts reference counts
/// atomically: a failed call changes nothing. Names compare as UTF-8 bytes (ordinal).
/// </summary>
public interface IMetadataStore : IAsyncDisposable
{
    /// <summary>Creates or migrates the schema. Called once before any other member.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The store's identity: an id made once, when the metadata store was first created, and never changed.
    /// The chunk stores keep it too, so that a metadata store that is new, restored from another store or
    /// emptied is never taken for the one that wrote the chunks.
    /// </summary>
    ValueTask<string> GetStoreIdAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a container.</summary>
    /// <exception cref="ContainerAlreadyExistsException">The name is taken.</exception>
    ValueTask CreateContainerAsync(ContainerProperties container, CancellationToken cancellationToken = default);

    /// <summary>The container, or null.</summary>
    ValueTask<ContainerProperties?> GetContainerAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every container, in ordinal order of names.</summary>
    ValueTask<IReadOnlyList<ContainerProperties>> ListContainersAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes a container; with <paramref name="deleteContents"/>, its blobs too, releasing their chunks. Uploads in progress in it are aborted.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    /// <exception cref="ContainerNotEmptyException">It holds blobs and <paramref name="deleteContents"/> is false.</exception>
    ValueTask DeleteContainerAsync(string name, bool deleteContents, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The container's CDN configuration (<see cref="CdnConfiguration.Disabled"/> when none was set), or null when the container does not exist.</summary>
    ValueTask<CdnConfiguration?> GetCdnConfigurationAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>Replaces the container's CDN configuration, already validated. Deleting the container deletes it too.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    /// <exception cref="BlobStorageException">Another container already has the same <see cref="CdnConfiguration.CustomDomain"/> (<see cref="BlobErrorCode.CustomDomainInUse"/>).</exception>
    ValueTask SetCdnConfigurationAsync(string container, CdnConfiguration configuration, CancellationToken cancellationToken = default);

    /// <summary>
    /// The name of the container whose CDN is enabled with <paramref name="domain"/> as its custom domain (compared as stored:
    /// lowercase), or null when none is.
    /// </summary>
    ValueTask<string?> FindContainerByCustomDomainAsync(string domain, CancellationToken cancellationToken = default);

    /// <summary>The current version of a blob with its chunk list, or null.</summary>
    ValueTask<BlobRecord?> GetBlobAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes <paramref name="blob"/> the current version of its name: checks the container exists and
    /// the conditions hold, counts a reference to each chunk, releases the old version's chunks,
    /// and counts the write. Returns the record as stored (creation time kept across overwrites).
    /// </summary>
    ValueTask<BlobRecord> CommitBlobAsync(BlobRecord blob, BlobRequestConditions? conditions, CancellationToken cancellationToken = default);

    /// <summary>Copies a blob by sharing its chunks, in one transaction.</summary>
    ValueTask<BlobRecord> CopyBlobAsync(BlobCopyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes a blob, releasing its chunks, and returns what was deleted.</summary>
    ValueTask<BlobRecord> DeleteBlobAsync(string container, string name, BlobRequestConditions? conditions, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Applies a tag and metadata change and gives the blob a new ETag.</summary>
    ValueTask<BlobRecord> UpdateBlobMetadataAsync(string container, string name, BlobMetadataUpdate update, string newETag, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>One page of a container's blobs.</summary>
    ValueTask<BlobListing> ListBlobsAsync(string container, BlobListQuery query, CancellationToken cancellationToken = default);

    /// <summary>Adds a batch of downloads to the blobs' access counts and the read statistics.</summary>
    ValueTask RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, CancellationToken cancellationToken = default);

    /// <summary>The store's totals.</summary>
    ValueTask<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> chunks whose reference count fell to zero before <paramref name="unreferencedBefore"/>.</summary>
    ValueTask<IReadOnlyList<ChunkReference>> GetCollectableChunksAsync(DateTimeOffset unreferencedBefore, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Forgets those of <paramref name="ids"/> still unreferenced since before <paramref name="unreferencedBefore"/>, and returns them: only their files may then be deleted.
    /// Their queued copies (<see cref="EnqueueReplicasAsync"/>) and verification times go in the same transaction, so no chunk file is deleted while a copy of it is queued.
    /// </summary>
    ValueTask<IReadOnlyList<ChunkReference>> RemoveChunksAsync(IReadOnlyCollection<ChunkId> ids, DateTimeOffset unreferencedBefore, CancellationToken cancellationToken = default);

    /// <summary>True when the store has a row for the chunk, referenced or awaiting collection.</summary>
    ValueTask<bool> ContainsChunkAsync(ChunkId id, CancellationToken cancellationToken = default);

    /// <summary>Every blob with its chunk list, for consistency checks.</summary>
    IAsyncEnumerable<BlobRecord> EnumerateBlobsAsync(CancellationToken cancellationToken = default);

    /// <summary>Records a new multipart upload.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    ValueTask CreateMultipartUploadAsync(MultipartUpload upload, CancellationToken cancellationToken = default);

    /// <summary>The upload with its part count and bytes so far, or null when it does not exist (any more).</summary>
    ValueTask<MultipartUpload?> GetMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a part, counting a reference to each of its chunks; a part of the same number is
    /// replaced and its chunks released.
    /// </summary>
    /// <exception cref="UploadNotFoundException">The upload was completed or aborted meanwhile.</exception>
    ValueTask CommitPartAsync(PartRecord part, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> parts numbered above <paramref name="afterPartNumber"/>, ascending.</summary>
    /// <exception cref="UploadNotFoundException">No such upload.</exception>
    ValueTask<IReadOnlyList<UploadedPart>> ListPartsAsync(string uploadId, int afterPartNumber, int limit, CancellationToken cancellationToken = default);

    /// <summary>The uploads in progress in a container, by blob name then start.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    ValueTask<IReadOnlyList<MultipartUpload>> ListMultipartUploadsAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finishes an upload in one transaction: checks every named part (present, ETag, size) and the
    /// upload's conditions, makes the parts' chunk lists, in order, the blob's (moving their references,
    /// not copying a byte), releases parts not named and the blob's previous version, and forgets the upload.
    /// A failed check leaves the upload as it was.
    /// </summary>
    /// <exception cref="UploadNotFoundException">No such upload (completed or aborted already).</exception>
    /// <exception cref="InvalidPartException">A part is missing, its ETag differs, or it is too small and not the last.</exception>
    ValueTask<BlobRecord> CompleteMultipartUploadAsync(MultipartCompletion completion, CancellationToken cancellationToken = default);

    /// <summary>Forgets an upload and releases its parts' chunks.</summary>
    /// <exception cref="UploadNotFoundException">No such upload.</exception>
    ValueTask AbortMultipartUploadAsync(string uploadId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> ids of uploads started before <paramref name="startedBefore"/>.</summary>
    ValueTask<IReadOnlyList<string>> GetStaleMultipartUploadsAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken = default);

    /// <summary>Every stored part with its chunk list, for consistency checks.</summary>
    IAsyncEnumerable<PartRecord> EnumeratePartsAsync(CancellationToken cancellationToken = default);

    /// <summary>Every chunk row with its reference count, for consistency checks.</summary>
    IAsyncEnumerable<ChunkRecord> EnumerateChunksAsync(CancellationToken cancellationToken = default);

    /// <summary>Queues copies owed to nodes; a copy already queued for the same chunk and node is kept as it is.</summary>
    ValueTask EnqueueReplicasAsync(IReadOnlyCollection<ReplicaWork> work, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> queued copies whose next attempt is due by <paramref name="dueBy"/>, the earliest first.</summary>
    ValueTask<IReadOnlyList<ReplicaWork>> GetDueReplicasAsync(DateTimeOffset dueBy, int limit, CancellationToken cancellationToken = default);

    /// <summary>The queued copies of these chunks, due or not.</summary>
    ValueTask<IReadOnlyList<ReplicaWork>> GetQueuedReplicasAsync(IReadOnlyCollection<ChunkId> chunks, CancellationToken cancellationToken = default);

    /// <summary>Removes a copy from the queue (written, or no longer owed); nothing when it is not queued.</summary>
    ValueTask RemoveReplicaAsync(ChunkId chunk, string node, CancellationToken cancellationToken = default);

    /// <summary>Records a failed attempt at a queued copy: its attempt count, next attempt and error; nothing when it is not queued.</summary>
    ValueTask PostponeReplicaAsync(ChunkId chunk, string node, int attempts, DateTimeOffset nextAttemptOn, string? lastError, CancellationToken cancellationToken = default);

    /// <summary>The queue's length and the time its oldest copy was queued.</summary>
    ValueTask<ReplicationQueueStatus> GetReplicationQueueStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>Records when copies were last verified, replacing earlier times of the same chunk and node.</summary>
    ValueTask RecordVerificationsAsync(IReadOnlyCollection<ChunkVerification> verifications, CancellationToken cancellationToken = default);

    /// <summary>The recorded verification times of these chunks' copies.</summary>
    ValueTask<IReadOnlyList<ChunkVerification>> GetVerificationsAsync(IReadOnlyCollection<ChunkId> chunks, CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes a blob's storage class and its pending rehydration (null: none) in one transaction; the ETag, the
    /// modification time and the content stay as they are. With <paramref name="expectedVersionId"/>, only while the
    /// blob's current version is that one. Returns the record as stored.
    /// </summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    /// <exception cref="PreconditionFailedException">A condition did not hold, or the version is another.</exception>
    ValueTask<BlobRecord> SetBlobStorageClassAsync(string container, string name, StorageClass storageClass, StorageClass? rehydratingTo, BlobRequestConditions? conditions, string? expectedVersionId, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> blobs with a pending rehydration (<see cref="BlobProperties.RehydratingTo"/> set).</summary>
    ValueTask<IReadOnlyList<BlobProperties>> GetPendingRehydrationsAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>Changes the storage class of blobs uploaded to the container from now on without one.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    ValueTask<ContainerProperties> SetContainerDefaultStorageClassAsync(string container, StorageClass storageClass, CancellationToken cancellationToken = default);

    /// <summary>The container's lifecycle rules in the order they were set (empty when none), or null when the container does not exist.</summary>
    ValueTask<IReadOnlyList<LifecycleRule>?> GetLifecycleRulesAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>Replaces the container's lifecycle rules, already validated; an empty list removes them. Deleting the container deletes them too.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    ValueTask SetLifecycleRulesAsync(string container, IReadOnlyList<LifecycleRule> rules, CancellationToken cancellationToken = default);
}
