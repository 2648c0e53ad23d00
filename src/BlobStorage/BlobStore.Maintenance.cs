using System.Buffers;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    private const int CollectionBatch = 1000;
    private readonly SemaphoreSlim _maintenanceLock = new(1, 1);
    private ITimer? _maintenanceTimer;
    private ITimer? _accessTimer;
    private DateTimeOffset _lastScrub;
    private int _hostedMaintenance;

    private async Task OpenCoreAsync()
    {
        // A missing, empty or foreign metadata store is refused before anything is written or deleted.
        await StoreIdentityCheck.CheckBeforeOpenAsync(_metadata, _replicator, CancellationToken.None).ConfigureAwait(false);
        await _metadata.InitializeAsync().ConfigureAwait(false);
        await StoreIdentityCheck.CheckAsync(_metadata, _replicator, CancellationToken.None).ConfigureAwait(false);
        _reserve.TryTake();

        // Chunk files no row refers to were left by a crash before their commit, or are being committed by
        // another process: those past the grace period go now, the younger ones are looked at again later.
        var sweep = default(OrphanSweep);
        await _maintenanceLock.WaitAsync().ConfigureAwait(false);
        try
        {
            sweep = await RemoveOrphansAsync(_replicator.EnumerateAsync(), OrphanSource.WholeStore, CancellationToken.None).ConfigureAwait(false);
        }
        catch (BlobStorageException ex)
        {
            // A chunk folder that cannot be listed must not keep the store closed: reads of what it can reach
            // still work, VerifyAsync reports the rest, and the next open sweeps again.
            Log.OrphanSweepFailed(_logger, ex);
        }
        finally
        {
            _maintenanceLock.Release();
        }

        _telemetry.ObserveTotals(CurrentTotals);
        _lastScrub = _time.GetUtcNow();
        lock (_openGate)
        {
            // A host's maintenance service runs the passes instead, once it has started.
            if (_options.MaintenanceInterval != Timeout.InfiniteTimeSpan && _hostedMaintenance == 0)
            {
                _maintenanceTimer = _time.CreateTimer(_ => _ = MaintainInBackgroundAsync(), null, _options.MaintenanceInterval, _options.MaintenanceInterval);
            }
        }

        _accessTimer = _time.CreateTimer(_ => _ = FlushAccessInBackgroundAsync(), null, _options.AccessFlushInterval, _options.AccessFlushInterval);
        await FollowChangesElsewhereAsync().ConfigureAwait(false);
        Log.StoreOpened(_logger, _options.RootPath, sweep.Removed, sweep.Pending);
    }

    private async Task StopScheduleAsync()
    {
        if (_maintenanceTimer is not null) await _maintenanceTimer.DisposeAsync().ConfigureAwait(false);
        if (_accessTimer is not null) await _accessTimer.DisposeAsync().ConfigureAwait(false);

        // A pass under way finishes before the services it uses are disposed.
        await _maintenanceLock.WaitAsync().ConfigureAwait(false);
        _maintenanceLock.Release();
        await _replicationLock.WaitAsync().ConfigureAwait(false);
        _replicationLock.Release();
    }

    /// <summary>
    /// Called by the host's maintenance service as it starts: from then on it runs the passes, and the store's own
    /// timer (started at open, or not yet) stays off.
    /// </summary>
    internal void HandOverScheduleToHost()
    {
        ITimer? timer;
        lock (_openGate)
        {
            _hostedMaintenance = 1;
            (timer, _maintenanceTimer) = (_maintenanceTimer, null);
        }

        timer?.Dispose();
    }

    public async Task<MaintenanceReport> RunMaintenanceAsync(CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Maintenance is how space comes back: on a full disk it may spend the reserve.
            return await FreeingSpaceAsync(MaintainAsync, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    private async Task MaintainInBackgroundAsync()
    {
        if (_disposed != 0 || !await _maintenanceLock.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            if (_disposed == 0) await FreeingSpaceAsync(MaintainAsync, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.MaintenanceFailed(_logger, ex);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    private async Task FlushAccessInBackgroundAsync()
    {
        if (_disposed != 0) return;
        try
        {
            await _access.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (_disposed == 0)
        {
            Log.AccessFlushFailed(_logger, ex);
        }
        catch (ObjectDisposedException)
        {
            // The store closed while the flush ran; DisposeAsync writes what is left.
        }
    }

    /// <summary>
    /// One pass: the steps in order, one line each, every step adding what it did to the report. Lifecycle runs
    /// before rehydration, so a blob brought online in this pass is judged by the rules at the next one; collection
    /// runs last, so it frees what the steps before released (once past the grace period).
    /// </summary>
    private async Task<MaintenanceReport> MaintainAsync(CancellationToken cancellationToken)
    {
        var pass = new MaintenancePass();
        pass.AccessRecordsFlushed = await FlushAccessForMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        (pass.LifecycleMoved, pass.LifecycleDeleted) = await ApplyLifecycleAsync(cancellationToken).ConfigureAwait(false);
        pass.Rehydrated = await CompleteRehydrationsAsync(cancellationToken).ConfigureAwait(false);
        pass.MultipartUploadsAborted = await AbortStaleUploadsAsync(cancellationToken).ConfigureAwait(false);

        var replication = await ProcessReplicationQueueAsync(cancellationToken).ConfigureAwait(false);
        (pass.ReplicasWritten, pass.ReplicasPostponed, pass.ReplicasDropped) = (replication.Written, replication.Postponed, replication.Dropped);
        pass.CopiesRebalanced = await RebalanceOnceAsync(cancellationToken).ConfigureAwait(false);
        if (ScrubIsDue()) pass.ScrubProblems = await ScrubForMaintenanceAsync(cancellationToken).ConfigureAwait(false);
        (pass.ChunksCollected, pass.BytesReclaimed, pass.Orphans) = await CollectAsync(cancellationToken).ConfigureAwait(false);

        // Space came back (or was there all along): hold the reserve again for the next full disk.
        _reserve.TryTake();
        pass.ReplicationQueueLength = (await UpdateReplicationTelemetryAsync(cancellationToken).ConfigureAwait(false)).Length;
        Log.MaintenanceDone(_logger, pass.ChunksCollected, pass.BytesReclaimed, pass.Orphans.Removed);
        if (pass.LifecycleMoved + pass.LifecycleDeleted + pass.Rehydrated > 0) Log.TiersMaintained(_logger, pass.LifecycleMoved, pass.LifecycleDeleted, pass.Rehydrated);
        return pass.ToReport();
    }

    /// <summary>What a pass has done so far.</summary>
    private sealed class MaintenancePass
    {
        public long AccessRecordsFlushed;
        public long LifecycleMoved;
        public long LifecycleDeleted;
        public long Rehydrated;
        public long MultipartUploadsAborted;
        public long? ScrubProblems;
        public long ChunksCollected;
        public long BytesReclaimed;
        public OrphanSweep Orphans;
        public long ReplicasWritten;
        public long ReplicasPostponed;
        public long ReplicasDropped;
        public long ReplicationQueueLength;
        public long CopiesRebalanced;

        public MaintenanceReport ToReport() => new()
        {
            ChunksCollected = ChunksCollected,
            BytesReclaimed = BytesReclaimed,
            OrphansRemoved = Orphans.Removed,
            OrphansPending = Orphans.Pending,
            AccessRecordsFlushed = AccessRecordsFlushed,
            MultipartUploadsAborted = MultipartUploadsAborted,
            BlobsMovedByLifecycle = LifecycleMoved,
            BlobsDeletedByLifecycle = LifecycleDeleted,
            BlobsRehydrated = Rehydrated,
            Scrubbed = ScrubProblems is not null,
            ScrubProblems = ScrubProblems ?? 0,
            ReplicasWritten = ReplicasWritten,
            ReplicasPostponed = ReplicasPostponed,
            ReplicasDropped = ReplicasDropped,
            ReplicationQueueLength = ReplicationQueueLength,
            CopiesRebalanced = CopiesRebalanced,
        };
    }

    /// <summary>Step: writes the access counts gathered in memory (lifecycle rules read the last access from the metadata).</summary>
    private async Task<long> FlushAccessForMaintenanceAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _access.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.ErrorCode == BlobErrorCode.InsufficientStorage)
        {
            // The counts stay in memory for a later flush; collection is what frees the disk.
            Log.AccessFlushFailed(_logger, ex);
            return 0;
        }
    }

    private bool ScrubIsDue() =>
        _options.ScrubInterval != Timeout.InfiniteTimeSpan && _time.GetUtcNow() - _lastScrub >= _options.ScrubInterval;

    /// <summary>Step, on its own slower schedule: reads and verifies every referenced chunk's copies, repairing what it can; returns the problems found.</summary>
    private async Task<long> ScrubForMaintenanceAsync(CancellationToken cancellationToken)
    {
        var report = await ScrubAsync(cancellationToken).ConfigureAwait(false);
        _lastScrub = _time.GetUtcNow();
        return report.UnrecoverableChunks;
    }

    /// <summary>Step: deletes chunks unreferenced for longer than the grace period, then orphans past it.</summary>
    private async Task<(long Collected, long Reclaimed, OrphanSweep Orphans)> CollectAsync(CancellationToken cancellationToken)
    {
        // A chunk unreferenced since exactly now minus the grace period has waited long enough.
        var cutoff = _time.GetUtcNow() - _options.GarbageCollectionGracePeriod + TimeSpan.FromTicks(1);
        long collected = 0, reclaimed = 0;
        while (true)
        {
            var candidates = await _metadata.GetCollectableChunksAsync(cutoff, CollectionBatch, cancellationToken).ConfigureAwait(false);
            if (candidates.Count == 0) break;
            var claimed = candidates.Select(c => c.Id).Where(_leases.TryBeginCollect).ToList();
            try
            {
                if (claimed.Count == 0) break;

                // The row goes first: once it is gone nothing can count a reference to the chunk without
                // writing it again, and an upload of the same bytes waits on the claim until the file is gone.
                // The metadata store makes this removal durable before it returns, and with it the commits
                // that released the chunks: a file is never deleted while a power cut could bring back a
                // blob that needs it (SynchronousMode.Normal included).
                var removed = await _metadata.RemoveChunksAsync(claimed, cutoff, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < removed.Count; i++)
                {
                    int copies;
                    try
                    {
                        copies = await _replicator.DeleteAsync(removed[i].Id, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        // Their rows are gone: only the orphan check finds these files again, so hand it all that are left.
                        AddSuspects([.. removed.Skip(i).Select(c => c.Id)]);
                        throw;
                    }

                    // Counted only when a file went: a chunk whose file was already gone frees nothing.
                    if (copies == 0) continue;
                    collected++;
                    reclaimed += removed[i].Length;
                }

                // Every file of these rows is gone: another process's upload may use the chunk again (see IChunkCollectionGuard).
                if (_metadata is IChunkCollectionGuard guard && removed.Count > 0)
                {
                    await guard.EndChunkRemovalAsync([.. removed.Select(c => c.Id)], cancellationToken).ConfigureAwait(false);
                }

                if (removed.Count == 0) break;
            }
            finally
            {
                foreach (var id in claimed) _leases.EndCollect(id);
            }

            if (candidates.Count < CollectionBatch) break;
        }

        List<ChunkId> suspects, strays;
        lock (_suspectsGate)
        {
            (suspects, strays) = (_suspects, _strays);
            (_suspects, _strays) = ([], []);
        }

        OrphanSweep fromFailures, fromSweeps;
        try
        {
            fromFailures = await RemoveOrphansAsync(suspects.Distinct().ToAsyncEnumerable(), OrphanSource.FailedWork, cancellationToken).ConfigureAwait(false);
            fromSweeps = await RemoveOrphansAsync(strays.Distinct().ToAsyncEnumerable(), OrphanSource.EarlierSweep, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Checked again next pass; the check asks the metadata store first, so a repeat is harmless.
            AddSuspects(suspects);
            AddStrays(strays);
            throw;
        }

        return (collected, reclaimed, new OrphanSweep(fromFailures.Removed + fromSweeps.Removed, fromFailures.Pending + fromSweeps.Pending));
    }

    /// <summary>
    /// The totals the metrics report, read when a listener collects them (the metadata store keeps them in one row, so
    /// the read is cheap): current at every collection, not as of the last flush. Null once the store is closed.
    /// </summary>
    private BlobStatistics? CurrentTotals()
    {
        if (_disposed != 0) return null;
        return _metadata.GetStatisticsAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>What an orphan sweep did: files deleted, and unreferenced files kept for a later pass.</summary>
    private readonly record struct OrphanSweep(long Removed, long Pending);

    /// <summary>Where the chunk ids an orphan sweep looks at come from.</summary>
    private enum OrphanSource
    {
        /// <summary>Every chunk stored, listed at open.</summary>
        WholeStore,

        /// <summary>Orphans an earlier sweep of the store found and kept (too young, or too many).</summary>
        EarlierSweep,

        /// <summary>Chunks this process wrote for uploads that then failed.</summary>
        FailedWork,
    }

    /// <summary>
    /// Deletes the chunk files among <paramref name="candidates"/> that no row refers to, nothing has pinned,
    /// and that were written longer than the grace period ago. Younger ones are kept and looked at again by
    /// the next pass: another process, or a commit of this one, may be about to refer to them. Orphans found
    /// by sweeping the store (not left by this process's own failed work) are deleted only while they are at
    /// most <see cref="BlobStorageOptions.MaxOrphanShare"/> of the chunks stored (or no more than
    /// <see cref="BlobStorageOptions.OrphanDeletionFloor"/>): more means the metadata does not match the chunks,
    /// and none is deleted; the log says why.
    /// </summary>
    private async Task<OrphanSweep> RemoveOrphansAsync(IAsyncEnumerable<ChunkId> candidates, OrphanSource source, CancellationToken cancellationToken)
    {
        var youngerThan = _time.GetUtcNow() - _options.GarbageCollectionGracePeriod;
        var old = new List<ChunkId>();
        var young = new List<ChunkId>();
        long seen = 0;
        await foreach (var id in candidates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            seen++;
            if (await _metadata.ContainsChunkAsync(id, cancellationToken).ConfigureAwait(false)) continue;
            if (_leases.IsPinned(id))
            {
                // In use by work in flight: it may yet be committed, or be left behind again; look next pass.
                young.Add(id);
                continue;
            }

            var written = await _replicator.GetLastWriteTimeAsync(id, cancellationToken).ConfigureAwait(false);
            if (written is null) continue;
            if (written > youngerThan) young.Add(id);
            else old.Add(id);
        }

        void KeepForLater(List<ChunkId> ids)
        {
            if (source == OrphanSource.FailedWork) AddSuspects(ids);
            else AddStrays(ids);
        }

        KeepForLater(young);
        if (old.Count == 0) return new OrphanSweep(0, young.Count);

        if (source != OrphanSource.FailedWork && old.Count > _options.OrphanDeletionFloor)
        {
            // Of every chunk stored: those just listed, or the metadata's chunks plus the orphans.
            var stored = source == OrphanSource.WholeStore
                ? seen
                : (await _metadata.GetStatisticsAsync(cancellationToken).ConfigureAwait(false)).ChunkCount + old.Count + young.Count;
            if (old.Count > _options.MaxOrphanShare * stored)
            {
                Log.OrphanSweepHeld(_logger, old.Count, stored, _options.MaxOrphanShare);
                KeepForLater(old);
                return new OrphanSweep(0, old.Count + young.Count);
            }
        }

        long removed = 0;
        foreach (var id in old)
        {
            if (!_leases.TryBeginCollect(id))
            {
                KeepForLater([id]);
                young.Add(id);
                continue;
            }

            try
            {
                // Asked again under the claim: an upload may have committed between the first look and the claim.
                // A store shared by processes opens a removal instead, in the transaction that checks there is no row,
                // so that another process's upload that found this file meanwhile cannot commit (IChunkCollectionGuard).
                if (_metadata is IChunkCollectionGuard guard)
                {
                    if ((await guard.BeginOrphanRemovalAsync([id], cancellationToken).ConfigureAwait(false)).Count == 0) continue;
                    if (await _replicator.DeleteAsync(id, cancellationToken).ConfigureAwait(false) > 0) removed++;
                    await guard.EndChunkRemovalAsync([id], cancellationToken).ConfigureAwait(false);
                }
                else if (!await _metadata.ContainsChunkAsync(id, cancellationToken).ConfigureAwait(false)
                    && await _replicator.DeleteAsync(id, cancellationToken).ConfigureAwait(false) > 0)
                {
                    removed++;
                }
            }
            finally
            {
                _leases.EndCollect(id);
            }
        }

        return new OrphanSweep(removed, young.Count);
    }

    public async Task<VerificationReport> VerifyAsync(bool verifyContent = false, CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var references = new Dictionary<ChunkId, long>();
        var checkedChunks = new Dictionary<ChunkId, string?>();
        var missing = new List<MissingChunk>();
        long blobs = 0;
        async Task CountAsync(string container, string name, IReadOnlyList<ChunkReference> chunks, ChunkPlacement placement)
        {
            foreach (var chunk in chunks)
            {
                references[chunk.Id] = references.GetValueOrDefault(chunk.Id) + 1;
                if (!checkedChunks.TryGetValue(chunk.Id, out var problem))
                {
                    problem = await CheckChunkAsync(chunk, verifyContent, placement, cancellationToken).ConfigureAwait(false);
                    checkedChunks[chunk.Id] = problem;
                }

                if (problem is not null) missing.Add(new MissingChunk(container, name, chunk.Id, problem));
            }
        }

        await foreach (var blob in _metadata.EnumerateBlobsAsync(cancellationToken).ConfigureAwait(false))
        {
            blobs++;
            var (container, name, size) = (blob.Properties.Container, blob.Properties.Name, blob.Properties.Size);
            await CountAsync(container, name, blob.Chunks, new ChunkPlacement(await StrategyOfAsync(container, cancellationToken).ConfigureAwait(false), blob.Properties.StorageClass)).ConfigureAwait(false);
            if (blob.Chunks.Count > 0)
            {
                var listed = PackedChunkList.TotalOf(blob.Chunks);
                if (listed != size) missing.Add(new MissingChunk(container, name, default, $"its size is {size} bytes but its chunks hold {listed}"));
            }
            else if (size > 0)
            {
                // Kept inline: reading it back checks its checksum and gives its length.
                try
                {
                    var inline = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false);
                    var inlineLength = inline?.InlineContent?.Length;
                    if (inline is not null && inlineLength != size)
                    {
                        missing.Add(new MissingChunk(container, name, default, inlineLength is null ? $"its size is {size} bytes but it has neither chunks nor inline content" : $"its size is {size} bytes but its inline content holds {inlineLength}"));
                    }
                }
                catch (DataCorruptionException ex)
                {
                    missing.Add(new MissingChunk(container, name, default, "inline content: " + ex.Message));
                }
            }
        }

        // Parts of uploads in progress hold references too.
        await foreach (var part in _metadata.EnumeratePartsAsync(cancellationToken).ConfigureAwait(false))
        {
            var upload = await _metadata.GetMultipartUploadAsync(part.UploadId, cancellationToken).ConfigureAwait(false);
            var placement = upload is null ? ChunkPlacement.Default : new ChunkPlacement(await StrategyOfAsync(upload.Container, cancellationToken).ConfigureAwait(false), upload.StorageClass);
            await CountAsync($"(multipart upload {part.UploadId})", $"part {part.Part.PartNumber}", part.Chunks, placement).ConfigureAwait(false);
        }

        var rows = new Dictionary<ChunkId, long>();
        var mismatches = new List<ChunkId>();
        long awaiting = 0;
        await foreach (var row in _metadata.EnumerateChunksAsync(cancellationToken).ConfigureAwait(false))
        {
            rows[row.Id] = row.ReferenceCount;
            if (row.ReferenceCount == 0) awaiting++;
            if (references.GetValueOrDefault(row.Id) != row.ReferenceCount) mismatches.Add(row.Id);
        }

        mismatches.AddRange(references.Keys.Where(id => !rows.ContainsKey(id)));
        var unreferenced = new List<ChunkId>();
        long stored = 0, young = 0;
        var youngerThan = _time.GetUtcNow() - _options.GarbageCollectionGracePeriod;
        // A chunk folder that cannot be listed fails the check with its typed error: a partial list would report healthy chunks as missing.
        await foreach (var id in _replicator.EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            stored++;
            if (rows.ContainsKey(id) || _leases.IsPinned(id)) continue;
            if (await _replicator.GetLastWriteTimeAsync(id, cancellationToken).ConfigureAwait(false) > youngerThan) young++;
            else unreferenced.Add(id);
        }

        return new VerificationReport
        {
            MissingChunks = missing,
            UnreferencedChunks = unreferenced,
            ReferenceCountMismatches = mismatches,
            ChunksAwaitingCollection = awaiting,
            OrphansWithinGracePeriod = young,
            BlobsChecked = blobs,
            ChunksChecked = stored,
        };
    }

    private async Task<ReplicationStrategy> StrategyOfAsync(string container, CancellationToken cancellationToken)
    {
        try
        {
            return (await ContainerAsync(container, cancellationToken).ConfigureAwait(false)).ReplicationStrategy;
        }
        catch (ContainerNotFoundException)
        {
            return ReplicationStrategy.Single;
        }
    }

    /// <summary>Null when the chunk is fine; with <paramref name="verifyContent"/>, every placed copy is read, checked and repaired.</summary>
    private async Task<string?> CheckChunkAsync(ChunkReference chunk, bool verifyContent, ChunkPlacement placement, CancellationToken cancellationToken)
    {
        if (!verifyContent)
        {
            return await _replicator.ExistsAsync(chunk.Id, cancellationToken).ConfigureAwait(false) ? null : "missing";
        }

        try
        {
            await _replicator.ScrubAsync(chunk.Id, chunk.Length, placement, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (BlobStorageException ex) when (ex.ErrorCode is BlobErrorCode.DataCorruption or BlobErrorCode.AccessDenied or BlobErrorCode.IOError)
        {
            return ex.Message;
        }
    }
}
