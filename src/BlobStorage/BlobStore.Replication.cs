using System.Diagnostics;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using BlobStorage.Replication;

namespace BlobStorage;

/// <summary>Replication: the queue of owed copies, read-repair, scrub, rebalance, and where a blob's copies are.</summary>
internal sealed partial class BlobStore
{
    private const int ReplicationBatch = 500;
    private readonly SemaphoreSlim _replicationLock = new(1, 1);
    private long _readRepairs;
    private int _replicateAgain;
    private int _rebalanced;

    private RendezvousReplicator? Rendezvous => _replicator as RendezvousReplicator;

    /// <summary>Refuses, before anything is written, a container whose strategy the topology cannot keep.</summary>
    private void CheckTopologyMeets(ReplicationStrategy strategy, string container)
    {
        if (Rendezvous?.CannotMeet(strategy) is { } reason)
        {
            throw new BlobStorageException(BlobErrorCode.ReplicationNotSatisfiable, $"Container '{container}' was not created: {reason}");
        }
    }

    /// <summary>
    /// Whether a blob of this placement may live inside the metadata store: only when it would have one copy
    /// anyway. With more, its only copy would be one database file, so it goes to the nodes as a chunk instead.
    /// </summary>
    private bool MayInline(ChunkPlacement placement) =>
        placement.Strategy == ReplicationStrategy.Single || Rendezvous is { Nodes.Count: 1 };

    /// <summary>Reads ranges of a blob's chunks through its placement: placed copies first, placed copies that were bad repaired.</summary>
    private async ValueTask<ChunkRangeReader> ChunkReaderAsync(string container, StorageClass storageClass, CancellationToken cancellationToken)
    {
        // One node (the default store): every placement is that node, so no strategy lookup and no placement per chunk.
        if (Rendezvous is not { Nodes.Count: > 1 } rendezvous) return _replicator.ReadRangeAsync;
        var placement = new ChunkPlacement(await StrategyOfAsync(container, cancellationToken).ConfigureAwait(false), storageClass);
        return (chunk, offset, count, destination, ct) => rendezvous.ReadRangeAsync(chunk, offset, count, destination, rendezvous.Place(chunk.Id, placement), ct);
    }

    private void OnReadRepaired()
    {
        Interlocked.Increment(ref _readRepairs);
        _telemetry.Repaired("read");
    }

    /// <summary>Copies owed by a chunk just written: every node it still needs, due at once.</summary>
    private ReplicaWork[] Owed(ChunkReference chunk, StorageNode[] nodes)
    {
        var now = _time.GetUtcNow();
        return [.. nodes.Select(n => new ReplicaWork(chunk.Id, n.Name, chunk.Length, now, 0, now, null))];
    }

    /// <summary>Queues the copies an upload owes, durably, before its commit.</summary>
    private async Task EnqueueOwedAsync(List<ReplicaWork> owed, CancellationToken cancellationToken)
    {
        if (owed.Count == 0) return;
        await _metadata.EnqueueReplicasAsync(owed, cancellationToken).ConfigureAwait(false);
        await UpdateReplicationTelemetryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// After a copy (which shares the source's chunks and writes no byte): queues the copies the destination's
    /// placement asks for that no node holds yet, as when the source keeps fewer copies than the destination.
    /// </summary>
    private async Task QueueCopiesForAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        if (Rendezvous is not { Nodes.Count: > 1 } rendezvous || record.Chunks.Count == 0) return;
        var placement = new ChunkPlacement(await StrategyOfAsync(record.Properties.Container, cancellationToken).ConfigureAwait(false), record.Properties.StorageClass);
        var owed = new List<ReplicaWork>();
        foreach (var chunk in record.Chunks.DistinctBy(c => c.Id))
        {
            var lacking = new List<StorageNode>();
            foreach (var node in rendezvous.Place(chunk.Id, placement))
            {
                bool exists;
                try
                {
                    exists = await node.Store.ExistsAsync(chunk.Id, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (RendezvousReplicator.IsNodeFailure(ex))
                {
                    exists = false;
                }

                if (!exists) lacking.Add(node);
            }

            owed.AddRange(Owed(chunk, [.. lacking]));
        }

        await EnqueueOwedAsync(owed, cancellationToken).ConfigureAwait(false);
        if (owed.Count > 0) ReplicateSoon();
    }

    /// <summary>Starts a pass over the replication queue in the background (after an upload that queued copies).</summary>
    private void ReplicateSoon()
    {
        if (_disposed != 0 || !_options.Topology.ReplicateAfterUpload) return;
        Volatile.Write(ref _replicateAgain, 1);
        ThreadPool.UnsafeQueueUserWorkItem(static store => _ = store.ReplicateInBackgroundAsync(), this, preferLocal: false);
    }

    private async Task ReplicateInBackgroundAsync()
    {
        if (_disposed != 0 || !await _replicationLock.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            while (_disposed == 0 && Interlocked.Exchange(ref _replicateAgain, 0) == 1)
            {
                await ProcessReplicationQueueCoreAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (_disposed == 0)
        {
            Log.MaintenanceFailed(_logger, ex);
        }
        catch (ObjectDisposedException)
        {
            // The store closed meanwhile; the queue is durable and the next open goes on with it.
        }
        finally
        {
            _replicationLock.Release();
        }
    }

    /// <summary>One pass over the due copies of the replication queue, under the replication lock.</summary>
    private async Task<(long Written, long Postponed, long Dropped)> ProcessReplicationQueueAsync(CancellationToken cancellationToken)
    {
        await _replicationLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ProcessReplicationQueueCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _replicationLock.Release();
        }
    }

    private async Task<(long Written, long Postponed, long Dropped)> ProcessReplicationQueueCoreAsync(CancellationToken cancellationToken)
    {
        if (Rendezvous is not { } rendezvous) return (0, 0, 0);
        long written = 0, postponed = 0, dropped = 0;
        var seen = new HashSet<(ChunkId, string)>();
        while (true)
        {
            var now = _time.GetUtcNow();
            var due = await _metadata.GetDueReplicasAsync(now, ReplicationBatch, cancellationToken).ConfigureAwait(false);
            var fresh = due.Where(w => seen.Add((w.Chunk, w.Node))).ToList();
            if (fresh.Count == 0) break;
            foreach (var work in fresh)
            {
                switch (await ReplicateOneAsync(rendezvous, work, cancellationToken).ConfigureAwait(false))
                {
                    case ReplicaOutcome.Written: written++; break;
                    case ReplicaOutcome.Postponed: postponed++; break;
                    case ReplicaOutcome.Dropped: dropped++; break;
                }
            }

            if (due.Count < ReplicationBatch) break;
        }

        var status = await UpdateReplicationTelemetryAsync(cancellationToken).ConfigureAwait(false);
        if (written + postponed + dropped > 0) Log.ReplicationDone(_logger, written, postponed, dropped, status.Length);
        return (written, postponed, dropped);
    }

    private enum ReplicaOutcome
    {
        Written,
        Postponed,
        Dropped,
        Waiting,
    }

    private async Task<ReplicaOutcome> ReplicateOneAsync(RendezvousReplicator rendezvous, ReplicaWork work, CancellationToken cancellationToken)
    {
        var node = rendezvous.NodeNamed(work.Node);
        if (node is null)
        {
            return await DropAsync(work, $"node '{work.Node}' is no longer in the topology (a rebalance pass places the chunk on the nodes there are)", cancellationToken).ConfigureAwait(false);
        }

        // Pinned while it is copied: the collector cannot take the chunk from under the copy.
        await _leases.PinAsync(work.Chunk, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!await _metadata.ContainsChunkAsync(work.Chunk, cancellationToken).ConfigureAwait(false))
            {
                // No row: the chunk was collected (its queued copies would have gone with the row), or the upload
                // that queued it failed or has not committed yet. Only the first two are past the grace period.
                if (work.EnqueuedOn > _time.GetUtcNow() - _options.GarbageCollectionGracePeriod) return ReplicaOutcome.Waiting;
                return await DropAsync(work, "the chunk is no longer stored (collected, or its upload failed)", cancellationToken).ConfigureAwait(false);
            }

            bool copied;
            try
            {
                copied = await rendezvous.CopyToAsync(work.Chunk, work.Length, node, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (RendezvousReplicator.IsNodeFailure(ex))
            {
                var attempts = work.Attempts + 1;
                var next = _time.GetUtcNow() + Backoff(attempts);
                await _metadata.PostponeReplicaAsync(work.Chunk, work.Node, attempts, next, ex.Message, cancellationToken).ConfigureAwait(false);
                Log.ReplicationRetry(_logger, ex, work.Chunk.ToString(), work.Node, attempts, next);
                return ReplicaOutcome.Postponed;
            }

            if (!copied)
            {
                var attempts = work.Attempts + 1;
                var next = _time.GetUtcNow() + Backoff(attempts);
                const string Reason = "no intact copy could be read to copy from";
                await _metadata.PostponeReplicaAsync(work.Chunk, work.Node, attempts, next, Reason, cancellationToken).ConfigureAwait(false);
                Log.ChunkUnrecoverable(_logger, work.Chunk.ToString(), Reason);
                return ReplicaOutcome.Postponed;
            }

            await _metadata.RemoveReplicaAsync(work.Chunk, work.Node, cancellationToken).ConfigureAwait(false);
            _telemetry.Replicated();
            return ReplicaOutcome.Written;
        }
        finally
        {
            _leases.Unpin(work.Chunk);
        }
    }

    private async Task<ReplicaOutcome> DropAsync(ReplicaWork work, string reason, CancellationToken cancellationToken)
    {
        await _metadata.RemoveReplicaAsync(work.Chunk, work.Node, cancellationToken).ConfigureAwait(false);
        Log.ReplicationDropped(_logger, work.Chunk.ToString(), work.Node, reason);
        return ReplicaOutcome.Dropped;
    }

    /// <summary>Exponential backoff: the initial delay, doubled at each further failure, up to the maximum.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var topology = _options.Topology;
        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var delay = topology.RetryInitialDelay.TotalMilliseconds * factor;
        return delay >= topology.RetryMaxDelay.TotalMilliseconds ? topology.RetryMaxDelay : TimeSpan.FromMilliseconds(delay);
    }

    private async Task<ReplicationQueueStatus> UpdateReplicationTelemetryAsync(CancellationToken cancellationToken)
    {
        var status = await _metadata.GetReplicationQueueStatusAsync(cancellationToken).ConfigureAwait(false);
        _telemetry.UpdateReplication(status.Length, status.OldestEnqueuedOn);
        return status;
    }

    /// <summary>Every chunk referenced by a blob or a part, with its length and every placement that refers to it.</summary>
    private async Task<Dictionary<ChunkId, (int Length, int Placements)>> PlacementsByChunkAsync(CancellationToken cancellationToken)
    {
        var chunks = new Dictionary<ChunkId, (int Length, int Placements)>();
        void Add(IReadOnlyList<ChunkReference> list, ChunkPlacement placement)
        {
            var bit = 1 << (((int)placement.Strategy * 4) + (int)placement.StorageClass);
            foreach (var chunk in list)
            {
                chunks[chunk.Id] = chunks.TryGetValue(chunk.Id, out var known) ? (known.Length, known.Placements | bit) : (chunk.Length, bit);
            }
        }

        await foreach (var blob in _metadata.EnumerateBlobsAsync(cancellationToken).ConfigureAwait(false))
        {
            Add(blob.Chunks, new ChunkPlacement(await StrategyOfAsync(blob.Properties.Container, cancellationToken).ConfigureAwait(false), blob.Properties.StorageClass));
        }

        await foreach (var part in _metadata.EnumeratePartsAsync(cancellationToken).ConfigureAwait(false))
        {
            var upload = await _metadata.GetMultipartUploadAsync(part.UploadId, cancellationToken).ConfigureAwait(false);
            var placement = upload is null ? ChunkPlacement.Default : new ChunkPlacement(await StrategyOfAsync(upload.Container, cancellationToken).ConfigureAwait(false), upload.StorageClass);
            Add(part.Chunks, placement);
        }

        return chunks;
    }

    private static IEnumerable<ChunkPlacement> PlacementsOf(int mask)
    {
        for (var bit = 0; bit < 16; bit++)
        {
            if ((mask & (1 << bit)) != 0) yield return new ChunkPlacement((ReplicationStrategy)(bit / 4), (StorageClass)(bit % 4));
        }
    }

    public async Task<ScrubReport> ScrubAsync(CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();
        var chunks = await PlacementsByChunkAsync(cancellationToken).ConfigureAwait(false);
        long checkedCopies = 0, corrupt = 0, missing = 0, repaired = 0, bytes = 0;
        var unrecoverable = new List<ChunkId>();
        var verified = new List<ChunkVerification>();
        foreach (var (id, (length, mask)) in chunks)
        {
            await _leases.PinAsync(id, cancellationToken).ConfigureAwait(false);
            try
            {
                if (Rendezvous is { } rendezvous)
                {
                    var targets = rendezvous.PlaceAll(id, PlacementsOf(mask));
                    var result = await rendezvous.ScrubCopiesAsync(id, length, targets, cancellationToken).ConfigureAwait(false);
                    checkedCopies += result.Checked;
                    corrupt += result.Corrupt;
                    missing += result.Missing;
                    repaired += result.Repaired;
                    bytes += (long)result.Checked * length;
                    if (result.Unrecoverable)
                    {
                        unrecoverable.Add(id);
                        Log.ChunkUnrecoverable(_logger, id.ToString(), result.Problem ?? "missing everywhere");
                    }

                    var now = _time.GetUtcNow();
                    verified.AddRange(result.Verified.Select(n => new ChunkVerification(id, n.Name, now)));
                    for (var i = 0; i < result.Repaired; i++) _telemetry.Repaired("scrub");
                }
                else
                {
                    checkedCopies++;
                    bytes += length;
                    var problem = await CheckChunkAsync(new ChunkReference(id, length), verifyContent: true, PlacementsOf(mask).First(), cancellationToken).ConfigureAwait(false);
                    if (problem is not null) unrecoverable.Add(id);
                }
            }
            finally
            {
                _leases.Unpin(id);
            }

            if (verified.Count >= ReplicationBatch)
            {
                await _metadata.RecordVerificationsAsync(verified, cancellationToken).ConfigureAwait(false);
                verified.Clear();
            }
        }

        await _metadata.RecordVerificationsAsync(verified, cancellationToken).ConfigureAwait(false);
        var report = new ScrubReport
        {
            ChunksChecked = chunks.Count,
            CopiesChecked = checkedCopies,
            CorruptCopies = corrupt,
            MissingCopies = missing,
            RepairedCopies = repaired,
            UnrecoverableChunks = unrecoverable.Count,
            Unrecoverable = unrecoverable,
            BytesVerified = bytes,
            Duration = _time.GetElapsedTime(started),
        };
        Log.ScrubDone(_logger, checkedCopies, chunks.Count, corrupt, missing, repaired, unrecoverable.Count);
        return report;
    }

    /// <summary>
    /// Rebalances at the first maintenance pass after the store opens: nodes are added or removed by opening the
    /// store with another topology, so later passes would find nothing to move (and would read every chunk's holders).
    /// </summary>
    private async Task<long> RebalanceOnceAsync(CancellationToken cancellationToken)
    {
        if (Rendezvous is not { Nodes.Count: > 1 } || Interlocked.Exchange(ref _rebalanced, 1) == 1) return 0;
        try
        {
            var report = await RebalanceCoreAsync(cancellationToken).ConfigureAwait(false);
            return report.CopiesWritten + report.CopiesRemoved;
        }
        catch
        {
            Volatile.Write(ref _rebalanced, 0);
            throw;
        }
    }

    public async Task<RebalanceReport> RebalanceAsync(CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RebalanceCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    /// <summary>Moves copies that a change of the topology displaced: to the nodes placement names now, then off those it no longer names.</summary>
    private async Task<RebalanceReport> RebalanceCoreAsync(CancellationToken cancellationToken)
    {
        if (Rendezvous is not { Nodes.Count: > 1 } rendezvous) return new RebalanceReport();
        var chunks = await PlacementsByChunkAsync(cancellationToken).ConfigureAwait(false);
        long written = 0, removed = 0;
        foreach (var (id, (length, mask)) in chunks)
        {
            // Claimed like a collection: no upload or read of the chunk is in flight while copies move.
            if (!_leases.TryBeginCollect(id)) continue;
            try
            {
                var queued = await _metadata.GetQueuedReplicasAsync([id], cancellationToken).ConfigureAwait(false);
                var (w, r) = await rendezvous.RebalanceAsync(id, length, rendezvous.PlaceAll(id, PlacementsOf(mask)), cancellationToken).ConfigureAwait(false);
                written += w;
                removed += r;
                if (w > 0)
                {
                    foreach (var work in queued) await _metadata.RemoveReplicaAsync(work.Chunk, work.Node, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _leases.EndCollect(id);
            }
        }

        Log.RebalanceDone(_logger, chunks.Count, written, removed);
        return new RebalanceReport { ChunksChecked = chunks.Count, CopiesWritten = written, CopiesRemoved = removed };
    }

    public async Task<BlobLocations> GetLocationsAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var record = await _metadata.GetBlobAsync(container, name, cancellationToken).ConfigureAwait(false)
            ?? throw await NotFoundAsync(container, name, cancellationToken).ConfigureAwait(false);
        var properties = record.Properties;
        var strategy = await StrategyOfAsync(container, cancellationToken).ConfigureAwait(false);
        var placement = new ChunkPlacement(strategy, properties.StorageClass);
        if (record.Chunks.Count == 0)
        {
            return new BlobLocations { Container = container, Name = name, VersionId = properties.VersionId, ReplicationStrategy = strategy, StorageClass = properties.StorageClass, IsInline = true, IsFullyReplicated = true };
        }

        var ids = record.Chunks.Select(c => c.Id).Distinct().ToList();
        var queued = (await _metadata.GetQueuedReplicasAsync(ids, cancellationToken).ConfigureAwait(false)).Select(w => (w.Chunk, w.Node)).ToHashSet();
        var verifiedOn = (await _metadata.GetVerificationsAsync(ids, cancellationToken).ConfigureAwait(false)).ToDictionary(v => (v.Chunk, v.Node), v => v.VerifiedOn);
        var copies = new List<ChunkCopyLocation>();
        var full = true;
        long offset = 0;
        for (var index = 0; index < record.Chunks.Count; index++)
        {
            var chunk = record.Chunks[index];
            var nodes = Rendezvous is { } rendezvous
                ? rendezvous.Place(chunk.Id, placement)
                : [];
            for (var i = 0; i < nodes.Length; i++)
            {
                var node = nodes[i];
                var state = ChunkCopyState.Unknown;
                ulong? checksum = null;
                try
                {
                    state = await node.Store.ExistsAsync(chunk.Id, cancellationToken).ConfigureAwait(false) ? ChunkCopyState.Present
                        : queued.Contains((chunk.Id, node.Name)) ? ChunkCopyState.Queued
                        : ChunkCopyState.Missing;
                    if (state == ChunkCopyState.Present && node.Store is Chunks.IChunkChecksumSource source)
                    {
                        checksum = source.ReadStoredChecksum(chunk.Id);
                    }
                }
                catch (Exception ex) when (RendezvousReplicator.IsNodeFailure(ex))
                {
                    if (queued.Contains((chunk.Id, node.Name))) state = ChunkCopyState.Queued;
                }

                full &= state == ChunkCopyState.Present;
                copies.Add(new ChunkCopyLocation
                {
                    ChunkIndex = index,
                    Chunk = chunk.Id,
                    Offset = offset,
                    Length = chunk.Length,
                    Node = node.Name,
                    Region = node.Region,
                    IsPrimary = i == 0,
                    IsCold = node.IsCold,
                    State = state,
                    StoredChecksum = checksum,
                    LastVerifiedOn = verifiedOn.TryGetValue((chunk.Id, node.Name), out var when) ? when : null,
                });
            }

            offset += chunk.Length;
        }

        return new BlobLocations
        {
            Container = container,
            Name = name,
            VersionId = properties.VersionId,
            ReplicationStrategy = strategy,
            StorageClass = properties.StorageClass,
            IsFullyReplicated = full,
            Copies = copies,
        };
    }

    /// <summary>
    /// For a blob of a container that keeps more than one copy: false while a copy of one of its chunks waits in
    /// the replication queue, else true. Null for a container of one copy (nothing is ever owed: an upload fails
    /// unless its only copy is durable).
    /// </summary>
    private async Task<bool?> IsFullyReplicatedAsync(BlobProperties properties, CancellationToken cancellationToken)
    {
        var strategy = await StrategyOfAsync(properties.Container, cancellationToken).ConfigureAwait(false);
        if (strategy == ReplicationStrategy.Single || Rendezvous is not { Nodes.Count: > 1 }) return null;
        var record = await _metadata.GetBlobAsync(properties.Container, properties.Name, cancellationToken).ConfigureAwait(false);
        if (record is null || record.Chunks.Count == 0) return true;
        var queued = await _metadata.GetQueuedReplicasAsync([.. record.Chunks.Select(c => c.Id).Distinct()], cancellationToken).ConfigureAwait(false);
        return queued.Count == 0;
    }
}
