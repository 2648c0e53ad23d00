using System.IO.Pipelines;
using BlobStorage.Abstractions;

namespace BlobStorage;

/// <summary>
/// An embedded blob store: containers of named blobs with metadata and tags, streamed in and out.
/// Every call is atomic: it completes, or it throws and changes nothing. Dispose the store to
/// flush access statistics and release its folder.
/// </summary>
public interface IBlobStore : IAsyncDisposable
{
    /// <summary>Creates a container.</summary>
    /// <exception cref="ArgumentException">The name breaks the container naming rules.</exception>
    /// <exception cref="ContainerAlreadyExistsException">A container of that name exists.</exception>
    Task<ContainerProperties> CreateContainerAsync(string name, ContainerOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Gets a container's properties.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task<ContainerProperties> GetContainerAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Lists containers in ordinal order of names, optionally only those starting with <paramref name="prefix"/>.</summary>
    IAsyncEnumerable<ContainerProperties> ListContainersAsync(string? prefix = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a container. It must be empty unless <paramref name="deleteContents"/> is true.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    /// <exception cref="ContainerNotEmptyException">It holds blobs and <paramref name="deleteContents"/> is false.</exception>
    Task DeleteContainerAsync(string name, bool deleteContents = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a container unless one of that name exists, as Azure's <c>CreateIfNotExistsAsync</c> does: returns the
    /// new container's properties, or null when it existed already (whatever its options). Two concurrent calls both succeed.
    /// </summary>
    /// <exception cref="ArgumentException">The name breaks the container naming rules.</exception>
    Task<ContainerProperties?> CreateContainerIfNotExistsAsync(string name, ContainerOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>True when a container of that name exists.</summary>
    /// <exception cref="ArgumentException">The name breaks the container naming rules.</exception>
    Task<bool> ContainerExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a container if it exists; false when there was none. As <see cref="DeleteContainerAsync"/> otherwise.</summary>
    /// <exception cref="ContainerNotEmptyException">It holds blobs and <paramref name="deleteContents"/> is false.</exception>
    Task<bool> DeleteContainerIfExistsAsync(string name, bool deleteContents = false, CancellationToken cancellationToken = default);

    /// <summary>Gets a container's CDN configuration; <see cref="CdnConfiguration.Disabled"/> when none was set.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task<CdnConfiguration> GetCdnConfigurationAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a container's CDN configuration and drops what the edges hold of its blobs. The
    /// configuration is kept in the metadata store and survives a restart.
    /// </summary>
    /// <exception cref="ArgumentException">A setting breaks its rule (a malformed edge name, a negative TTL, a bad domain); the message names it.</exception>
    /// <exception cref="BlobStorageException">An edge location is not configured (<see cref="BlobErrorCode.UnknownEdgeLocation"/>), or the custom domain is another container's (<see cref="BlobErrorCode.CustomDomainInUse"/>).</exception>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task<CdnConfiguration> SetCdnConfigurationAsync(string container, CdnConfiguration configuration, CancellationToken cancellationToken = default);

    /// <summary>
    /// The container a request to <paramref name="host"/> is for: the one whose CDN is enabled with that
    /// <see cref="CdnConfiguration.CustomDomain"/>, or null when none is. Host names compare without case; a
    /// trailing dot is ignored. This is how a CDN URL on a custom domain (<c>https://images.example.com/cats/tabby.jpg</c>)
    /// is mapped back to its container.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="host"/> is not a host name (it has a scheme, port, path or bad label).</exception>
    Task<string?> FindContainerByCustomDomainAsync(string host, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a blob, or a range of it, through an edge location: from the edge's copy when it holds the
    /// current version and the copy is fresh, else from the store (once for concurrent readers), keeping a
    /// copy when the blob is no larger than the container's <see cref="CdnConfiguration.MaxCacheableSize"/>.
    /// The properties and bytes are those <see cref="DownloadAsync"/> returns; the read is counted as a download.
    /// </summary>
    /// <exception cref="ArgumentException">The edge location name is malformed.</exception>
    /// <exception cref="BlobStorageException">The edge is not configured (<see cref="BlobErrorCode.UnknownEdgeLocation"/>), or the container's CDN is off or not at that edge (<see cref="BlobErrorCode.CdnNotEnabled"/>).</exception>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    /// <exception cref="InvalidRangeException">The range starts past the end.</exception>
    /// <exception cref="PreconditionFailedException">A condition did not hold.</exception>
    /// <exception cref="BlobArchivedException">The blob is in <see cref="StorageClass.ColdArchive"/>: rehydrate it first.</exception>
    Task<BlobDownload> DownloadFromEdgeAsync(string edgeLocation, string container, string name, BlobDownloadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>The edge locations in front of the store: their statistics, and invalidation by hand.</summary>
    IEdgeCache EdgeCache { get; }

    /// <summary>Makes direct, CDN and signed URLs of the store's blobs, and checks signed ones (<see cref="BlobStorageOptions.Urls"/>).</summary>
    Urls.IBlobUrlProvider Urls { get; }

    /// <summary>
    /// Uploads a blob from a stream, replacing any blob of that name atomically. The content is
    /// streamed in chunks, hashed as it passes and never held whole in memory.
    /// </summary>
    /// <exception cref="ArgumentException">A name, tag or metadata entry breaks its rule.</exception>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    /// <exception cref="PreconditionFailedException">A condition did not hold.</exception>
    /// <exception cref="BlobStorageException">The content's SHA-256 is not the expected one (<see cref="BlobErrorCode.ContentHashMismatch"/>).</exception>
    Task<BlobProperties> UploadAsync(string container, string name, Stream content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Uploads a blob from a pipe; see <see cref="UploadAsync(string, string, Stream, BlobUploadOptions?, CancellationToken)"/>.</summary>
    Task<BlobProperties> UploadAsync(string container, string name, PipeReader content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a blob, or a range of it, for reading. The returned stream reads chunk by chunk and
    /// verifies each chunk before returning a byte of it; it keeps reading the version it opened
    /// even if the blob is overwritten or deleted meanwhile.
    /// </summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    /// <exception cref="InvalidRangeException">The range starts past the end.</exception>
    /// <exception cref="PreconditionFailedException">A condition did not hold.</exception>
    /// <exception cref="BlobArchivedException">The blob is in <see cref="StorageClass.ColdArchive"/>: rehydrate it first.</exception>
    Task<BlobDownload> DownloadAsync(string container, string name, BlobDownloadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Gets a blob's properties, tags and metadata.</summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    Task<BlobProperties> GetPropertiesAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a blob.</summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    /// <exception cref="PreconditionFailedException">A condition did not hold.</exception>
    Task DeleteAsync(string container, string name, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default);

    /// <summary>True when the blob exists; false when it or its container does not (as Azure's <c>ExistsAsync</c>).</summary>
    /// <exception cref="ArgumentException">A name breaks its rule.</exception>
    Task<bool> ExistsAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a blob if it exists; false when it or its container does not (as Azure's <c>DeleteIfExistsAsync</c>).</summary>
    /// <exception cref="PreconditionFailedException">The blob exists and a condition did not hold.</exception>
    Task<bool> DeleteIfExistsAsync(string container, string name, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists one page of a container's blobs in ordinal order of names. A continuation token stays
    /// valid while blobs are added and removed. Listed blobs carry their tags and custom metadata only
    /// when <see cref="BlobListOptions.Include"/> asks for them; otherwise both are empty.
    /// </summary>
    Task<BlobListPage> ListAsync(string container, BlobListOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Every blob of a container whose name starts with <paramref name="prefix"/>, page after page; as a default <see cref="ListAsync"/>, without tags or metadata.</summary>
    IAsyncEnumerable<BlobProperties> ListAllAsync(string container, string? prefix = null, CancellationToken cancellationToken = default);

    /// <summary>Changes a blob's tags and custom metadata, merging or replacing; the content is untouched.</summary>
    Task<BlobProperties> UpdateMetadataAsync(string container, string name, BlobMetadataUpdate update, CancellationToken cancellationToken = default);

    /// <summary>
    /// Copies a blob. The copy shares the source's chunks: no byte is read or written by the call. When the
    /// destination's strategy or class asks for copies on nodes that do not hold them yet, those copies are queued
    /// in the replication queue after the commit (a crash just then leaves them to <see cref="ScrubAsync"/>, which
    /// rewrites every copy placement asks for).
    /// </summary>
    /// <exception cref="BlobArchivedException">The source is in <see cref="StorageClass.ColdArchive"/>: rehydrate it first.</exception>
    Task<BlobProperties> CopyAsync(string sourceContainer, string sourceName, string destinationContainer, string destinationName, BlobCopyOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a multipart upload of a blob and returns its id. The options (content type, storage
    /// class, tags, metadata, conditions) apply to the blob the upload completes as. The upload lives
    /// in the metadata store: another process that opens the same folder can continue it.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task<string> StartMultipartUploadAsync(string container, string name, MultipartUploadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Uploads one part, numbered 1 to 10,000, of at most 5 GiB; uploading a number again replaces
    /// that part. Parts may be sent concurrently. The bytes stream into chunks like any upload.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The part number is outside 1 to 10,000.</exception>
    /// <exception cref="ArgumentException">The part is larger than 5 GiB.</exception>
    /// <exception cref="UploadNotFoundException">No such upload (never started, completed or aborted).</exception>
    Task<UploadedPart> UploadPartAsync(string uploadId, int partNumber, Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Uploads one part as <see cref="UploadPartAsync(string, int, Stream, CancellationToken)"/> does, reporting the
    /// bytes read from <paramref name="content"/> so far to <paramref name="progress"/> at least every MiB and at the end.
    /// </summary>
    Task<UploadedPart> UploadPartAsync(string uploadId, int partNumber, Stream content, IProgress<long>? progress, CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes an upload from the named parts, in ascending order, each with its ETag. Completion is
    /// a metadata operation: the parts' chunks become the blob's without a byte being read or copied.
    /// Parts not named are discarded. A failed check leaves the upload open.
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    /// <exception cref="InvalidPartException">A part is missing, unknown, mismatched, out of order, or too small and not the last.</exception>
    /// <exception cref="UploadNotFoundException">No such upload; a concurrent completion or abort won.</exception>
    /// <exception cref="PreconditionFailedException">The upload's conditions do not hold for the blob now.</exception>
    Task<BlobProperties> CompleteMultipartUploadAsync(string uploadId, IEnumerable<CompletedPart> parts, CancellationToken cancellationToken = default);

    /// <summary>Aborts an upload; its parts' chunks are collected after the grace period.</summary>
    /// <exception cref="UploadNotFoundException">No such upload.</exception>
    Task AbortMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>Lists one page of an upload's parts in ascending part number.</summary>
    /// <exception cref="UploadNotFoundException">No such upload.</exception>
    Task<PartListPage> ListPartsAsync(string uploadId, PartListOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Gets an upload in progress: its blob, parts so far, bytes so far, start and storage class.</summary>
    /// <exception cref="UploadNotFoundException">No such upload.</exception>
    Task<MultipartUpload> GetMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>The uploads in progress in a container, by blob name, then by start.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    IAsyncEnumerable<MultipartUpload> ListMultipartUploadsAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>The store's totals: blobs, bytes, bytes after deduplication, operations, per container.</summary>
    Task<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks that metadata and stored chunks agree: every referenced chunk exists (and, when
    /// <paramref name="verifyContent"/>, reads back intact), every stored chunk is referenced,
    /// and every reference count is right.
    /// </summary>
    Task<VerificationReport> VerifyAsync(bool verifyContent = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Backs the store up, online, into <paramref name="destination"/>: a consistent snapshot of the metadata (SQLite's
    /// <c>VACUUM INTO</c>, while writes go on) and every chunk it refers to, hard-linked where the destination is on the same
    /// file system and copied and flushed elsewhere. Collection waits while a backup runs, so no chunk the snapshot needs is
    /// deleted. The destination is itself a store: it opens, verifies clean and holds exactly the blobs committed before the
    /// snapshot. A second backup into the same folder copies only new chunks, and deletes those no longer referred to once its
    /// new metadata is durable. To restore, open the backup, or back it up into the store's folder.
    /// </summary>
    /// <exception cref="BlobStorageException">
    /// The destination is inside the store, or holds something other than an earlier backup of this store
    /// (<see cref="BlobErrorCode.BackupRefused"/>); the store does not use the default services (<see cref="BlobErrorCode.NotSupported"/>).
    /// </exception>
    Task<BackupReport> BackupAsync(string destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a maintenance pass now, after any pass already running (one pass at a time): flushes access counts,
    /// completes rehydrations, applies lifecycle rules, aborts stale multipart uploads, scrubs when
    /// <see cref="BlobStorageOptions.ScrubInterval"/> has passed, and collects chunks unreferenced for longer than the
    /// grace period. The store also runs it every <see cref="BlobStorageOptions.MaintenanceInterval"/>: as a hosted
    /// service when registered with <c>AddBlobStorage</c> in a host, on its own timer otherwise.
    /// </summary>
    Task<MaintenanceReport> RunMaintenanceAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Where every copy of every chunk of the blob's current version is: node, region, primary or replica,
    /// whether the node holds it (or it is queued), its stored fast checksum and when it was last verified.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    Task<BlobLocations> GetLocationsAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads every copy of every referenced chunk on every node placement names, checks each against its
    /// id (its SHA-256 or BLAKE3 hash, see <see cref="Abstractions.ChunkId"/>), rewrites those missing or bad from a good copy (a node whose folder was lost is rebuilt this
    /// way), records when each good copy was verified, and reports what it found.
    /// </summary>
    Task<ScrubReport> ScrubAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the copies a change of the topology displaced (a node added or removed): each is written to the
    /// node placement now names, read back and checked, and only then deleted from the node that no longer
    /// owns it. The last good copy is never deleted. The first maintenance pass after the store opens runs it too.
    /// </summary>
    Task<RebalanceReport> RebalanceAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves a blob to another storage class. Its chunks are written again with the new class's placement and
    /// treatment (compressed or raw, <see cref="BlobStorageOptions.StorageClasses"/>); chunks it shares with other
    /// blobs stay readable by them throughout. The ETag and modification time do not change. Moving to
    /// <see cref="StorageClass.ColdArchive"/> takes the blob offline; moving a ColdArchive blob out of it is a
    /// rehydration, as <see cref="RehydrateAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A name breaks its rule, or the class is not defined.</exception>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    /// <exception cref="PreconditionFailedException">A condition did not hold.</exception>
    Task<BlobProperties> SetStorageClassAsync(string container, string name, StorageClass storageClass, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Brings a <see cref="StorageClass.ColdArchive"/> blob back online in <paramref name="targetClass"/>. The call
    /// records the request (<see cref="BlobProperties.RehydratingTo"/>) and returns; the next maintenance pass
    /// completes it, after which the blob reads again. A blob not in ColdArchive is moved at once, as by
    /// <see cref="SetStorageClassAsync"/>. Uploading over the blob cancels a pending rehydration.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="targetClass"/> is ColdArchive or not defined.</exception>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    Task<BlobProperties> RehydrateAsync(string container, string name, StorageClass targetClass, CancellationToken cancellationToken = default);

    /// <summary>Changes the class of blobs uploaded to the container from now on without one; blobs already there keep theirs.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task<ContainerProperties> SetContainerDefaultStorageClassAsync(string container, StorageClass storageClass, CancellationToken cancellationToken = default);

    /// <summary>The container's lifecycle rules, in the order set; empty when it has none.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task<IReadOnlyList<LifecycleRule>> GetLifecycleRulesAsync(string container, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the container's lifecycle rules (kept in the metadata store); maintenance applies them on each pass.
    /// Returns the rules as stored.
    /// </summary>
    /// <exception cref="ArgumentException">A rule breaks its rule (negative days, no class to move to, a duplicate name, a move a delete always comes first); the parameter name says which, as <c>rules[1].DaysAfter</c>. Nothing is changed.</exception>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task<IReadOnlyList<LifecycleRule>> SetLifecycleRulesAsync(string container, IEnumerable<LifecycleRule> rules, CancellationToken cancellationToken = default);

    /// <summary>Removes every lifecycle rule of the container.</summary>
    /// <exception cref="ContainerNotFoundException">No such container.</exception>
    Task DeleteLifecycleRulesAsync(string container, CancellationToken cancellationToken = default);
}
