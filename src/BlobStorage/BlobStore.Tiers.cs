using System.Buffers;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using BlobStorage.Tiers;

namespace BlobStorage;

/// <summary>Storage classes as tiers: moving a blob, archiving and rehydrating, a container's default class, lifecycle rules.</summary>
internal sealed partial class BlobStore
{
    private const int RehydrationBatch = 100;

    public async Task<BlobProperties> SetStorageClassAsync(string container, string name, StorageClass storageClass, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        CheckDefined(storageClass, nameof(storageClass));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var current = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false)
            ?? throw await NotFoundAsync(container, name, cancellationToken).ConfigureAwait(false);
        conditions?.Check(container, name, current.Properties.ETag, current.Properties.LastModified);
        if (current.Properties.StorageClass == storageClass && current.Properties.RehydratingTo is null)
        {
            // Already there: nothing to write.
            return await MergedAsync(current.Properties, cancellationToken).ConfigureAwait(false);
        }

        if (current.Properties.StorageClass == StorageClass.ColdArchive && storageClass != StorageClass.ColdArchive)
        {
            // Leaving ColdArchive is a rehydration: the blob comes online at the next maintenance pass, as with Azure's Set Blob Tier.
            return await RequestRehydrationAsync(current.Properties, storageClass, conditions, cancellationToken).ConfigureAwait(false);
        }

        return await MoveAsync(current.Properties, storageClass, conditions, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BlobProperties> RehydrateAsync(string container, string name, StorageClass targetClass, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        CheckDefined(targetClass, nameof(targetClass));
        if (targetClass == StorageClass.ColdArchive)
        {
            throw new ArgumentException("A blob is rehydrated to a readable class: Standard, InfrequentAccess or Archive, not ColdArchive.", nameof(targetClass));
        }

        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var current = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false)
            ?? throw await NotFoundAsync(container, name, cancellationToken).ConfigureAwait(false);
        return current.Properties.StorageClass == StorageClass.ColdArchive
            ? await RequestRehydrationAsync(current.Properties, targetClass, conditions: null, cancellationToken).ConfigureAwait(false)
            : await MoveAsync(current.Properties, targetClass, conditions: null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ContainerProperties> SetContainerDefaultStorageClassAsync(string container, StorageClass storageClass, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        CheckDefined(storageClass, nameof(storageClass));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await _metadata.SetContainerDefaultStorageClassAsync(container, storageClass, cancellationToken).ConfigureAwait(false);
        _containers[container] = changed;
        return changed;
    }

    public async Task<IReadOnlyList<LifecycleRule>> GetLifecycleRulesAsync(string container, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return await _metadata.GetLifecycleRulesAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainerNotFoundException(container);
    }

    public async Task<IReadOnlyList<LifecycleRule>> SetLifecycleRulesAsync(string container, IEnumerable<LifecycleRule> rules, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        var validated = LifecycleRules.Validate(rules, nameof(rules));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _metadata.SetLifecycleRulesAsync(container, validated, cancellationToken).ConfigureAwait(false);
        return validated;
    }

    public async Task DeleteLifecycleRulesAsync(string container, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _metadata.SetLifecycleRulesAsync(container, [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A ColdArchive blob is offline: its content is refused, its properties are not.</summary>
    private static void ThrowIfArchived(BlobProperties properties)
    {
        if (properties.StorageClass == StorageClass.ColdArchive)
        {
            throw new BlobArchivedException(properties.Container, properties.Name, properties.RehydratingTo);
        }
    }

    private async Task<BlobProperties> RequestRehydrationAsync(BlobProperties blob, StorageClass targetClass, BlobRequestConditions? conditions, CancellationToken cancellationToken)
    {
        var record = await _metadata.SetBlobStorageClassAsync(blob.Container, blob.Name, StorageClass.ColdArchive, targetClass, conditions, blob.VersionId, cancellationToken).ConfigureAwait(false);
        return await MergedAsync(record.Properties, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves a blob to another class: the class changes first, in one metadata transaction (the ETag and
    /// modification time stay), then each of its chunks is written with the new class's placement and treatment.
    /// A crash between the two leaves chunks in their old form, which read back the same bytes.
    /// </summary>
    private async Task<BlobProperties> MoveAsync(BlobProperties blob, StorageClass storageClass, BlobRequestConditions? conditions, CancellationToken cancellationToken)
    {
        var record = await _metadata.SetBlobStorageClassAsync(blob.Container, blob.Name, storageClass, rehydratingTo: null, conditions, blob.VersionId, cancellationToken).ConfigureAwait(false);
        await RewriteChunksAsync(record, cancellationToken).ConfigureAwait(false);

        // An edge must not keep serving a blob that went offline.
        if (storageClass == StorageClass.ColdArchive) await InvalidateEdgesAsync(blob.Container, blob.Name).ConfigureAwait(false);
        return await MergedAsync(record.Properties, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes every chunk of the blob for its (new) class. Each chunk is pinned while it is read and written, so the
    /// collector cannot take it; a chunk another blob shares stays readable throughout, as both forms hold the same bytes.
    /// </summary>
    private async Task RewriteChunksAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        if (record.Chunks.Count == 0) return;
        var placement = new ChunkPlacement(await StrategyOfAsync(record.Properties.Container, cancellationToken).ConfigureAwait(false), record.Properties.StorageClass);
        var done = new HashSet<ChunkId>();
        foreach (var chunk in record.Chunks)
        {
            if (!done.Add(chunk.Id)) continue;
            await _leases.PinAsync(chunk.Id, cancellationToken).ConfigureAwait(false);
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(chunk.Length, 1));
            try
            {
                var length = await _replicator.ReadAsync(chunk.Id, buffer.AsMemory(0, chunk.Length), cancellationToken).ConfigureAwait(false);
                await Tiering.RewriteAsync(_replicator, chunk.Id, buffer.AsMemory(0, length), placement, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                _leases.Unpin(chunk.Id);
            }
        }
    }

    private async Task<BlobProperties> MergedAsync(BlobProperties properties, CancellationToken cancellationToken)
    {
        var generation = _access.Generation;
        return _access.TryMerge(properties, generation, out var merged)
            ? merged
            : await PropertiesAsync(properties.Container, properties.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Maintenance step: completes every rehydration asked for, bringing the blobs online in their target class.</summary>
    private async Task<long> CompleteRehydrationsAsync(CancellationToken cancellationToken)
    {
        long completed = 0;
        var failed = new HashSet<(string, string)>();
        while (true)
        {
            var pending = await _metadata.GetPendingRehydrationsAsync(RehydrationBatch + failed.Count, cancellationToken).ConfigureAwait(false);
            var progress = false;
            foreach (var blob in pending)
            {
                if (failed.Contains((blob.Container, blob.Name))) continue;
                try
                {
                    await MoveAsync(blob, blob.RehydratingTo!.Value, conditions: null, cancellationToken).ConfigureAwait(false);
                    completed++;
                    progress = true;
                    Log.BlobRehydrated(_logger, blob.Container, blob.Name, blob.RehydratingTo.Value);
                }
                catch (BlobStorageException ex) when (ex.ErrorCode is BlobErrorCode.BlobNotFound or BlobErrorCode.ConditionNotMet or BlobErrorCode.ContainerNotFound)
                {
                    // Deleted or overwritten meanwhile: the rehydration went with the version it was asked for.
                    progress = true;
                }
                catch (BlobStorageException ex) when (ex.ErrorCode is BlobErrorCode.DataCorruption or BlobErrorCode.IOError or BlobErrorCode.AccessDenied)
                {
                    // Stays pending (and offline) for the next pass; VerifyAsync reports the damaged chunk.
                    failed.Add((blob.Container, blob.Name));
                    Log.RehydrationFailed(_logger, ex, blob.Container, blob.Name);
                }
            }

            if (!progress || pending.Count < RehydrationBatch + failed.Count) return completed;
        }
    }

    /// <summary>Maintenance step: applies each container's lifecycle rules to its blobs by the store's clock.</summary>
    private async Task<(long Moved, long Deleted)> ApplyLifecycleAsync(CancellationToken cancellationToken)
    {
        long moved = 0, deleted = 0;
        foreach (var container in await _metadata.ListContainersAsync(cancellationToken).ConfigureAwait(false))
        {
            var rules = await _metadata.GetLifecycleRulesAsync(container.Name, cancellationToken).ConfigureAwait(false);
            if (rules is not { Count: > 0 }) continue;
            byte[]? startAt = null;
            do
            {
                var page = await _metadata.ListBlobsAsync(container.Name, new BlobListQuery { StartAt = startAt, PageSize = 1000 }, cancellationToken).ConfigureAwait(false);
                var now = _time.GetUtcNow();
                foreach (var blob in page.Blobs)
                {
                    var (delete, moveTo) = LifecycleRules.Decide(rules, blob, now);
                    try
                    {
                        // The ETag condition: a blob changed since it was listed is judged again at the next pass.
                        var unchanged = new BlobRequestConditions { IfMatch = blob.ETag };
                        if (delete)
                        {
                            await _metadata.DeleteBlobAsync(container.Name, blob.Name, unchanged, now, cancellationToken).ConfigureAwait(false);
                            await InvalidateEdgesAsync(container.Name, blob.Name).ConfigureAwait(false);
                            deleted++;
                        }
                        else if (moveTo is { } target)
                        {
                            await MoveAsync(blob, target, unchanged, cancellationToken).ConfigureAwait(false);
                            moved++;
                        }
                    }
                    catch (BlobStorageException ex) when (ex.ErrorCode is BlobErrorCode.BlobNotFound or BlobErrorCode.ConditionNotMet or BlobErrorCode.ContainerNotFound)
                    {
                        // Changed or deleted meanwhile.
                    }
                }

                startAt = page.NextStartAt;
            }
            while (startAt is not null);
        }

        return (moved, deleted);
    }
}
