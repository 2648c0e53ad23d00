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
    Task<BlobDownload> DownloadAsync(string container, string name, BlobDownloadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Gets a blob's properties, tags and metadata.</summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    Task<BlobProperties> GetPropertiesAsync(string container, string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a blob.</summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    /// <exception cref="PreconditionFailedException">A condition did not hold.</exception>
    Task DeleteAsync(string container, string name, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists one page of a container's blobs in ordinal order of names. A continuation token stays
    /// valid while blobs are added and removed.
    /// </summary>
    Task<BlobListPage> ListAsync(string container, BlobListOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Every blob of a container whose name starts with <paramref name="prefix"/>, page after page.</summary>
    IAsyncEnumerable<BlobProperties> ListAllAsync(string container, string? prefix = null, CancellationToken cancellationToken = default);

    /// <summary>Changes a blob's tags and custom metadata, merging or replacing; the content is untouched.</summary>
    Task<BlobProperties> UpdateMetadataAsync(string container, string name, BlobMetadataUpdate update, CancellationToken cancellationToken = default);

    /// <summary>Copies a blob. The copy shares the source's chunks: no byte is read or written.</summary>
    Task<BlobProperties> CopyAsync(string sourceContainer, string sourceName, string destinationContainer, string destinationName, BlobCopyOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>The store's totals: blobs, bytes, bytes after deduplication, operations, per container.</summary>
    Task<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks that metadata and stored chunks agree: every referenced chunk exists (and, when
    /// <paramref name="verifyContent"/>, reads back intact), every stored chunk is referenced,
    /// and every reference count is right.
    /// </summary>
    Task<VerificationReport> VerifyAsync(bool verifyContent = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a maintenance pass now: flushes access counts and collects chunks unreferenced for
    /// longer than the grace period. The store also runs it on its own schedule.
    /// </summary>
    Task<MaintenanceReport> RunMaintenanceAsync(CancellationToken cancellationToken = default);
}
