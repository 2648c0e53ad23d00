using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    private static readonly string EmptyContentHash = Convert.ToHexStringLower(SHA256.HashData([]));

    // Chunks written by uploads that then failed: the next maintenance pass checks whether anything refers to them.
    private readonly Lock _suspectsGate = new();
    private List<ChunkId> _suspects = [];

    public Task<BlobProperties> UploadAsync(string container, string name, PipeReader content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return UploadAsync(container, name, content.AsStream(leaveOpen: true), options, cancellationToken);
    }

    public async Task<BlobProperties> UploadAsync(string container, string name, Stream content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(content);
        options ??= DefaultUpload;
        var tags = MetadataRules.ValidateTags(options.Tags, "options.Tags");
        var metadata = MetadataRules.ValidateMetadata(options.Metadata, "options.Metadata");
        MetadataRules.ValidateContentType(options.ContentType);
        if (options.StorageClass is { } requestedClass) CheckDefined(requestedClass, "options.StorageClass");
        var expectedHash = ParseExpectedHash(options.ExpectedContentHash);
        if (!content.CanRead) throw new ArgumentException("The content stream cannot be read.", nameof(content));

        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        using var activity = BlobStorageTelemetry.ActivitySource.StartActivity("BlobStorage.Upload");
        activity?.SetTag("blobstorage.container", container);
        activity?.SetTag("blobstorage.blob", name);

        var containerProperties = await ContainerAsync(container, cancellationToken).ConfigureAwait(false);
        if (options.Conditions is { } conditions)
        {
            // Checked again, atomically, at commit; checking now spares streaming an upload that is bound to fail.
            var current = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false);
            conditions.Check(container, name, current?.Properties.ETag, current?.Properties.LastModified);
        }

        var written = await WriteContentAsync(content, containerProperties.ReplicationStrategy, options.Progress, cancellationToken).ConfigureAwait(false);
        try
        {
            if (expectedHash is not null && expectedHash != written.ContentHash)
            {
                throw new BlobStorageException(
                    BlobErrorCode.ContentHashMismatch,
                    $"Blob '{name}' in container '{container}' was not stored: its content has SHA-256 {written.ContentHash}, not the expected {expectedHash}.");
            }

            var now = _time.GetUtcNow();
            var record = new BlobRecord(
                new BlobProperties
                {
                    Container = container,
                    Name = name,
                    VersionId = Identifiers.NewVersionId(now),
                    Size = written.Size,
                    ContentType = options.ContentType ?? "application/octet-stream",
                    ETag = Identifiers.NewETag(),
                    ContentHash = written.ContentHash,
                    StorageClass = options.StorageClass ?? containerProperties.DefaultStorageClass,
                    CreatedOn = now,
                    LastModified = now,
                    Tags = tags,
                    Metadata = metadata,
                },
                written.Chunks)
            {
                InlineContent = written.Inline,
            };
            var stored = await _metadata.CommitBlobAsync(record, options.Conditions, cancellationToken).ConfigureAwait(false);
            CrashPoints.Reach(CrashPoints.Committed);
            _telemetry.Write(written.Size);
            activity?.SetTag("blobstorage.size", written.Size);
            return stored.Properties;
        }
        catch
        {
            // Every chunk it touched, not only those it wrote: another failed upload may have written one it found.
            AddSuspects(written.Pinned);
            throw;
        }
        finally
        {
            _leases.UnpinAll(written.Pinned);
        }
    }

    private sealed class WrittenContent
    {
        public List<ChunkReference> Chunks { get; } = [];

        public List<ChunkId> Pinned { get; } = [];

        public long Size { get; set; }

        public string ContentHash { get; set; } = EmptyContentHash;

        /// <summary>The whole content of a blob small enough to live in the metadata store, or null.</summary>
        public byte[]? Inline { get; set; }
    }

    /// <summary>
    /// Streams content into chunks. The reading thread reads a chunk and adds it to the blob's
    /// SHA-256 while earlier chunks are hashed and written on the thread pool, so reading, the two
    /// hashes and the disk overlap; at most <c>UploadConcurrency + 1</c> chunk buffers exist at once.
    /// Every chunk is pinned before its file is checked or written; the caller unpins after commit.
    /// Content that ends within the first read and is no larger than the inline threshold is kept
    /// whole for the metadata store instead: one transaction, no chunk file.
    /// </summary>
    private async Task<WrittenContent> WriteContentAsync(Stream content, ReplicationStrategy strategy, IProgress<long>? progress, CancellationToken cancellationToken, long maxSize = long.MaxValue, bool allowInline = true)
    {
        allowInline &= _options.InlineThreshold > 0;
        var chunkSize = _options.ChunkSize;
        var result = new WrittenContent();
        var inflight = new Queue<(Task<ChunkReference> Task, byte[] Buffer)>();
        using var blobHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var hashedWhole = false;
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
                int read;
                try
                {
                    read = await content.ReadAtLeastAsync(buffer.AsMemory(0, chunkSize), chunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }

                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    if (result.Size == 0 && allowInline) result.Inline = [];
                    break;
                }

                var isOnlyChunk = result.Size == 0 && read < chunkSize;
                if (isOnlyChunk && allowInline && read <= _options.InlineThreshold && read <= maxSize)
                {
                    result.Inline = buffer.AsSpan(0, read).ToArray();
                    ArrayPool<byte>.Shared.Return(buffer);
                    result.Size = read;
                    result.ContentHash = Convert.ToHexStringLower(SHA256.HashData(result.Inline));
                    progress?.Report(read);
                    return result;
                }

                result.Size += read;
                if (result.Size > maxSize)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw new ArgumentException($"The content is larger than the {maxSize} bytes allowed.", nameof(content));
                }

                progress?.Report(result.Size);
                inflight.Enqueue((Task.Run(() => StoreChunkAsync(buffer, read, strategy, result, cancellationToken), cancellationToken), buffer));

                // A blob of one chunk is named by that chunk's hash: no second SHA-256 pass.
                if (!isOnlyChunk)
                {
                    blobHash.AppendData(buffer, 0, read);
                    hashedWhole = true;
                }

                while (inflight.Count > _options.UploadConcurrency)
                {
                    var (task, done) = inflight.Dequeue();
                    try
                    {
                        result.Chunks.Add(await task.ConfigureAwait(false));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(done);
                    }
                }

                if (read < chunkSize) break;
            }

            while (inflight.Count > 0)
            {
                var (task, done) = inflight.Dequeue();
                try
                {
                    result.Chunks.Add(await task.ConfigureAwait(false));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(done);
                }
            }

            if (hashedWhole) result.ContentHash = Convert.ToHexStringLower(blobHash.GetHashAndReset());
            else if (result.Chunks.Count == 1) result.ContentHash = result.Chunks[0].Id.ToString();
            return result;
        }
        catch
        {
            while (inflight.Count > 0)
            {
                var (task, done) = inflight.Dequeue();
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The first failure is the one reported; the rest only need to finish before their buffers go back.
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(done);
                }
            }

            _leases.UnpinAll(result.Pinned);
            AddSuspects(result.Pinned);
            throw;
        }
    }

    private async Task<ChunkReference> StoreChunkAsync(byte[] buffer, int length, ReplicationStrategy strategy, WrittenContent result, CancellationToken cancellationToken)
    {
        var id = ChunkId.Compute(buffer.AsSpan(0, length));
        await _leases.PinAsync(id, cancellationToken).ConfigureAwait(false);
        lock (result) result.Pinned.Add(id);
        await _replicator.WriteAsync(id, buffer.AsMemory(0, length), strategy, cancellationToken).ConfigureAwait(false);

        return new ChunkReference(id, length);
    }

    private void AddSuspects(List<ChunkId> ids)
    {
        if (ids.Count == 0) return;
        lock (_suspectsGate) _suspects.AddRange(ids);
    }

    private static string? ParseExpectedHash(string? hash)
    {
        if (hash is null) return null;
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"An expected content hash is a SHA-256 as 64 hexadecimal characters; '{(hash.Length > 80 ? hash[..80] + "…" : hash)}' is not.", "options.ExpectedContentHash");
        }

        return hash.ToLowerInvariant();
    }
}
