using System.Buffers;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    private const int CollectionBatch = 1000;
    private readonly SemaphoreSlim _maintenanceLock = new(1, 1);
    private ITimer? _maintenanceTimer;
    private ITimer? _accessTimer;

    private async Task OpenCoreAsync()
    {
        await _metadata.InitializeAsync().ConfigureAwait(false);

        // Nothing is in flight at open: every chunk file no row refers to was left by a crash before its commit.
        long orphans;
        await _maintenanceLock.WaitAsync().ConfigureAwait(false);
        try
        {
            orphans = await RemoveOrphansAsync(_replicator.EnumerateAsync(), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }

        _telemetry.Update(await _metadata.GetStatisticsAsync().ConfigureAwait(false));
        if (_options.MaintenanceInterval != Timeout.InfiniteTimeSpan)
        {
            _maintenanceTimer = _time.CreateTimer(_ => _ = MaintainInBackgroundAsync(), null, _options.MaintenanceInterval, _options.MaintenanceInterval);
        }

        _accessTimer = _time.CreateTimer(_ => _ = FlushAccessInBackgroundAsync(), null, _options.AccessFlushInterval, _options.AccessFlushInterval);
        Log.StoreOpened(_logger, _options.RootPath, orphans);
    }

    private async Task StopScheduleAsync()
    {
        if (_maintenanceTimer is not null) await _maintenanceTimer.DisposeAsync().ConfigureAwait(false);
        if (_accessTimer is not null) await _accessTimer.DisposeAsync().ConfigureAwait(false);

        // A pass under way finishes before the services it uses are disposed.
        await _maintenanceLock.WaitAsync().ConfigureAwait(false);
        _maintenanceLock.Release();
    }

    public async Task<MaintenanceReport> RunMaintenanceAsync(CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await MaintainAsync(cancellationToken).ConfigureAwait(false);
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
            if (_disposed == 0) await MaintainAsync(CancellationToken.None).ConfigureAwait(false);
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
            // Totals only move when something was written; an idle store does no work on the tick.
            if (await _access.FlushAsync(CancellationToken.None).ConfigureAwait(false) > 0 | _telemetry.TakeChanged())
            {
                _telemetry.Update(await _metadata.GetStatisticsAsync().ConfigureAwait(false));
            }
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

    /// <summary>One pass: write access counts, collect chunks past their grace period, remove orphans.</summary>
    private async Task<MaintenanceReport> MaintainAsync(CancellationToken cancellationToken)
    {
        var flushed = await _access.FlushAsync(cancellationToken).ConfigureAwait(false);
        var aborted = await AbortStaleUploadsAsync(cancellationToken).ConfigureAwait(false);

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
                var removed = await _metadata.RemoveChunksAsync(claimed, cutoff, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < removed.Count; i++)
                {
                    try
                    {
                        await _replicator.DeleteAsync(removed[i].Id, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        // Their rows are gone: only the orphan check finds these files again, so hand it all that are left.
                        AddSuspects([.. removed.Skip(i).Select(c => c.Id)]);
                        throw;
                    }

                    collected++;
                    reclaimed += removed[i].Length;
                }

                if (removed.Count == 0) break;
            }
            finally
            {
                foreach (var id in claimed) _leases.EndCollect(id);
            }

            if (candidates.Count < CollectionBatch) break;
        }

        List<ChunkId> suspects;
        lock (_suspectsGate)
        {
            suspects = _suspects;
            _suspects = [];
        }

        long orphans;
        try
        {
            orphans = await RemoveOrphansAsync(suspects.Distinct().ToAsyncEnumerable(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Checked again next pass; the check asks the metadata store first, so a repeat is harmless.
            AddSuspects(suspects);
            throw;
        }
        _telemetry.Update(await _metadata.GetStatisticsAsync(cancellationToken).ConfigureAwait(false));
        Log.MaintenanceDone(_logger, collected, reclaimed, orphans);
        return new MaintenanceReport { ChunksCollected = collected, BytesReclaimed = reclaimed, OrphansRemoved = orphans, AccessRecordsFlushed = flushed, MultipartUploadsAborted = aborted };
    }

    /// <summary>Deletes the chunk files among <paramref name="candidates"/> that no row refers to and nothing has pinned.</summary>
    private async Task<long> RemoveOrphansAsync(IAsyncEnumerable<ChunkId> candidates, CancellationToken cancellationToken)
    {
        long removed = 0;
        await foreach (var id in candidates.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (await _metadata.ContainsChunkAsync(id, cancellationToken).ConfigureAwait(false)) continue;
            if (!_leases.TryBeginCollect(id))
            {
                // In use by work in flight: it may yet be committed, or be left behind again; look next pass.
                AddSuspects([id]);
                continue;
            }

            try
            {
                // Asked again under the claim: an upload may have committed between the first look and the claim.
                if (!await _metadata.ContainsChunkAsync(id, cancellationToken).ConfigureAwait(false))
                {
                    await _replicator.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                    removed++;
                }
            }
            finally
            {
                _leases.EndCollect(id);
            }
        }

        return removed;
    }

    public async Task<VerificationReport> VerifyAsync(bool verifyContent = false, CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var references = new Dictionary<ChunkId, long>();
        var checkedChunks = new Dictionary<ChunkId, string?>();
        var missing = new List<MissingChunk>();
        long blobs = 0;
        async Task CountAsync(string container, string name, IReadOnlyList<ChunkReference> chunks, ReplicationStrategy strategy)
        {
            foreach (var chunk in chunks)
            {
                references[chunk.Id] = references.GetValueOrDefault(chunk.Id) + 1;
                if (!checkedChunks.TryGetValue(chunk.Id, out var problem))
                {
                    problem = await CheckChunkAsync(chunk, verifyContent, strategy, cancellationToken).ConfigureAwait(false);
                    checkedChunks[chunk.Id] = problem;
                }

                if (problem is not null) missing.Add(new MissingChunk(container, name, chunk.Id, problem));
            }
        }

        await foreach (var blob in _metadata.EnumerateBlobsAsync(cancellationToken).ConfigureAwait(false))
        {
            blobs++;
            await CountAsync(blob.Properties.Container, blob.Properties.Name, blob.Chunks, await StrategyOfAsync(blob.Properties.Container, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            if (verifyContent && blob.Chunks.Count == 0 && blob.Properties.Size > 0)
            {
                // Kept inline: reading it back checks its checksum.
                try
                {
                    await _metadata.GetBlobAsync(blob.Properties.Container, blob.Properties.Name, cancellationToken).ConfigureAwait(false);
                }
                catch (DataCorruptionException ex)
                {
                    missing.Add(new MissingChunk(blob.Properties.Container, blob.Properties.Name, default, "inline content: " + ex.Message));
                }
            }
        }

        // Parts of uploads in progress hold references too.
        await foreach (var part in _metadata.EnumeratePartsAsync(cancellationToken).ConfigureAwait(false))
        {
            var upload = await _metadata.GetMultipartUploadAsync(part.UploadId, cancellationToken).ConfigureAwait(false);
            var strategy = upload is null ? ReplicationStrategy.Single : await StrategyOfAsync(upload.Container, cancellationToken).ConfigureAwait(false);
            await CountAsync($"(multipart upload {part.UploadId})", $"part {part.Part.PartNumber}", part.Chunks, strategy).ConfigureAwait(false);
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
        long stored = 0;
        await foreach (var id in _replicator.EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            stored++;
            if (!rows.ContainsKey(id) && !_leases.IsPinned(id)) unreferenced.Add(id);
        }

        return new VerificationReport
        {
            MissingChunks = missing,
            UnreferencedChunks = unreferenced,
            ReferenceCountMismatches = mismatches,
            ChunksAwaitingCollection = awaiting,
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
    private async Task<string?> CheckChunkAsync(ChunkReference chunk, bool verifyContent, ReplicationStrategy strategy, CancellationToken cancellationToken)
    {
        if (!verifyContent)
        {
            return await _replicator.ExistsAsync(chunk.Id, cancellationToken).ConfigureAwait(false) ? null : "missing";
        }

        try
        {
            await _replicator.ScrubAsync(chunk.Id, chunk.Length, strategy, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (DataCorruptionException ex)
        {
            return ex.Message;
        }
    }
}
