using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    private const int MaxPartNumber = 10_000;

    public async Task<string> StartMultipartUploadAsync(string container, string name, MultipartUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        options ??= new MultipartUploadOptions();
        var tags = MetadataRules.ValidateTags(options.Tags, "options.Tags");
        var metadata = MetadataRules.ValidateMetadata(options.Metadata, "options.Metadata");
        MetadataRules.ValidateContentType(options.ContentType);
        if (options.StorageClass is { } requestedClass) CheckDefined(requestedClass, "options.StorageClass");
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var containerProperties = await ContainerAsync(container, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var upload = new MultipartUpload
        {
            UploadId = Identifiers.NewVersionId(now),
            Container = container,
            Name = name,
            ContentType = options.ContentType ?? "application/octet-stream",
            StorageClass = options.StorageClass ?? containerProperties.DefaultStorageClass,
            Tags = tags,
            Metadata = metadata,
            Conditions = options.Conditions,
            StartedOn = now,
        };
        await _metadata.CreateMultipartUploadAsync(upload, cancellationToken).ConfigureAwait(false);
        return upload.UploadId;
    }

    public Task<UploadedPart> UploadPartAsync(string uploadId, int partNumber, Stream content, CancellationToken cancellationToken = default) =>
        UploadPartAsync(uploadId, partNumber, content, progress: null, cancellationToken);

    public async Task<UploadedPart> UploadPartAsync(string uploadId, int partNumber, Stream content, IProgress<long>? progress, CancellationToken cancellationToken = default)
    {
        ValidateUploadId(uploadId);
        ValidatePartNumber(partNumber, nameof(partNumber));
        ArgumentNullException.ThrowIfNull(content);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var upload = await _metadata.GetMultipartUploadAsync(uploadId, cancellationToken).ConfigureAwait(false)
            ?? throw new UploadNotFoundException(uploadId);
        var container = await ContainerAsync(upload.Container, cancellationToken).ConfigureAwait(false);
        return await SentAgainWhenBusyAsync(
            content,
            upload.Container,
            $"{upload.Name} (part {partNumber})",
            () => UploadPartOnceAsync(upload, container, partNumber, content, progress, cancellationToken)).ConfigureAwait(false);
    }

    private async Task<UploadedPart> UploadPartOnceAsync(MultipartUpload upload, ContainerProperties container, int partNumber, Stream content, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var uploadId = upload.UploadId;

        // Parts always go to chunks: completion stitches chunk lists and never copies bytes.
        var written = await WriteContentAsync(progress is null ? content : new ProgressStream(content, progress, interval: Math.Min(ProgressStream.Interval, _options.ChunkSize)), new ChunkPlacement(container.ReplicationStrategy, upload.StorageClass), progress: null, cancellationToken, BlobStorageOptions.MaxPartSize, allowInline: false).ConfigureAwait(false);
        try
        {
            var part = new UploadedPart
            {
                PartNumber = partNumber,
                ETag = MultipartHash.PartETag(written.ContentHash),
                Size = written.Size,
                ContentHash = written.ContentHash,
                UploadedOn = _time.GetUtcNow(),
            };
            if (_metadata is IChunkCollectionGuard guard && written.CollectionEpoch is { } epoch)
            {
                await guard.CommitPartAsync(new PartRecord(uploadId, part, written.Chunks), part.UploadedOn, epoch, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _metadata.CommitPartAsync(new PartRecord(uploadId, part, written.Chunks), part.UploadedOn, cancellationToken).ConfigureAwait(false);
            }
            if (written.Owed.Count > 0) ReplicateSoon();
            _telemetry.Write(written.Size);
            return part;
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

    public async Task<BlobProperties> CompleteMultipartUploadAsync(string uploadId, IEnumerable<CompletedPart> parts, CancellationToken cancellationToken = default)
    {
        ValidateUploadId(uploadId);
        ArgumentNullException.ThrowIfNull(parts);
        var list = parts.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("Completing an upload takes at least one part; the list is empty.", nameof(parts));
        }

        for (var i = 0; i < list.Count; i++)
        {
            var part = list[i] ?? throw new ArgumentException($"Entry {i} of the part list is null.", nameof(parts));
            if (part.PartNumber is < 1 or > MaxPartNumber)
            {
                throw new InvalidPartException($"Part number {part.PartNumber} is outside 1 to {MaxPartNumber}.", part.PartNumber);
            }

            if (string.IsNullOrWhiteSpace(part.ETag))
            {
                throw new InvalidPartException($"Part {part.PartNumber} is named without the ETag its upload returned.", part.PartNumber);
            }

            if (i > 0 && part.PartNumber <= list[i - 1].PartNumber)
            {
                throw new InvalidPartException($"Parts must be listed in strictly ascending order; part {part.PartNumber} follows part {list[i - 1].PartNumber}.", part.PartNumber);
            }
        }

        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var record = await _metadata.CompleteMultipartUploadAsync(
            new MultipartCompletion
            {
                UploadId = uploadId,
                Parts = list,
                MinimumPartSize = _options.MultipartMinimumPartSize,
                VersionId = Identifiers.NewVersionId(now),
                Now = now,
            },
            cancellationToken).ConfigureAwait(false);
        CrashPoints.Reach(CrashPoints.Committed);
        // Its bytes were counted as its parts were uploaded.
        await InvalidateEdgesAsync(record.Properties.Container, record.Properties.Name).ConfigureAwait(false);
        return record.Properties;
    }

    public async Task AbortMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        ValidateUploadId(uploadId);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await FreeingSpaceAsync(ct => _metadata.AbortMultipartUploadAsync(uploadId, _time.GetUtcNow(), ct).AsTask(), cancellationToken).ConfigureAwait(false);
    }

    public async Task<PartListPage> ListPartsAsync(string uploadId, PartListOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateUploadId(uploadId);
        options ??= new PartListOptions();
        if (options.PageSize is < 1 or > PartListOptions.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException("options.PageSize", options.PageSize, $"A page holds 1 to {PartListOptions.MaxPageSize} parts.");
        }

        if (options.PartNumberMarker is < 0 or > MaxPartNumber)
        {
            throw new ArgumentOutOfRangeException("options.PartNumberMarker", options.PartNumberMarker, $"The marker is a part number, 0 to {MaxPartNumber}.");
        }

        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var parts = await _metadata.ListPartsAsync(uploadId, options.PartNumberMarker, options.PageSize + 1, cancellationToken).ConfigureAwait(false);
        var more = parts.Count > options.PageSize;
        var page = more ? parts.Take(options.PageSize).ToList() : parts;
        return new PartListPage { Parts = page, NextPartNumberMarker = more ? page[^1].PartNumber : null };
    }

    public async Task<MultipartUpload> GetMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        ValidateUploadId(uploadId);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return await _metadata.GetMultipartUploadAsync(uploadId, cancellationToken).ConfigureAwait(false)
            ?? throw new UploadNotFoundException(uploadId);
    }

    public async IAsyncEnumerable<MultipartUpload> ListMultipartUploadsAsync(string container, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var upload in await _metadata.ListMultipartUploadsAsync(container, cancellationToken).ConfigureAwait(false))
        {
            yield return upload;
        }
    }

    /// <summary>Aborts uploads older than the configured age; part of the maintenance pass.</summary>
    private async Task<long> AbortStaleUploadsAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var before = now - _options.AbortIncompleteMultipartUploadsAfter;
        long aborted = 0;
        while (true)
        {
            var stale = await _metadata.GetStaleMultipartUploadsAsync(before, 100, cancellationToken).ConfigureAwait(false);
            foreach (var uploadId in stale)
            {
                try
                {
                    await _metadata.AbortMultipartUploadAsync(uploadId, now, cancellationToken).ConfigureAwait(false);
                    aborted++;
                }
                catch (UploadNotFoundException)
                {
                    // Completed or aborted by a caller meanwhile: nothing left to do.
                }
            }

            if (stale.Count < 100) return aborted;
        }
    }

    private static void ValidateUploadId(string uploadId)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (uploadId.Length is 0 or > 128 || uploadId.Any(char.IsControl))
        {
            throw new ArgumentException("An upload id is 1 to 128 printable characters, as StartMultipartUploadAsync returns it.", nameof(uploadId));
        }
    }

    private static void ValidatePartNumber(int partNumber, string paramName)
    {
        if (partNumber is < 1 or > MaxPartNumber)
        {
            throw new ArgumentOutOfRangeException(paramName, partNumber, $"Part numbers run from 1 to {MaxPartNumber}.");
        }
    }
}
