using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlobStorage.Replication;

/// <summary>
/// Places chunks on nodes by rendezvous (highest random weight) hashing: each node scores each
/// chunk, and the copies go to the best-scoring nodes, so placement is deterministic and adding a
/// node moves only the chunks it now wins. Reads try the placed copies, local ones first, and a copy
/// that is missing or fails its checksum is rewritten from a good one (read-repair).
/// </summary>
/// <remarks>
/// <para>Copies per <see cref="ReplicationStrategy"/>: <see cref="ReplicationStrategy.Single"/> one in the
/// local region; <see cref="ReplicationStrategy.LocalRedundancy"/> three on distinct nodes of the local
/// region; <see cref="ReplicationStrategy.CrossRegion"/> those three plus one in one other region, chosen per
/// chunk by rendezvous hashing over the other regions; <see cref="ReplicationStrategy.Global"/> those three
/// plus one in every other region. Within a region, copies of <see cref="StorageClass.Archive"/> and
/// <see cref="StorageClass.ColdArchive"/> chunks go to its cold nodes first, those of the other classes to its
/// hot nodes first; the rest of the region's nodes follow when there are too few of the preferred tier.</para>
/// <para>A store writes the local copies of an upload before it returns (with three, at least two: a quorum)
/// and queues the others, and copies in other regions, in the metadata store's replication queue.</para>
/// </remarks>
public sealed class RendezvousReplicator : IReplicator, IDisposable
{
    /// <summary>Copies kept in the local region by every strategy but <see cref="ReplicationStrategy.Single"/>.</summary>
    public const int LocalCopies = 3;

    private readonly StorageNode[] _nodes;
    private readonly StorageNode[] _localNodes;
    private readonly string[] _remoteRegions;
    private readonly Dictionary<string, StorageNode[]> _byRegion;
    private readonly Dictionary<StorageNode, ulong> _seeds;
    private readonly Dictionary<string, ulong> _regionSeeds;
    private readonly IReadOnlyList<IDisposable> _owned;
    private readonly ILogger _logger;
    private long _readRepairs;

    /// <summary>Creates a replicator over the given nodes; the first node's region is the local one.</summary>
    public RendezvousReplicator(IEnumerable<StorageNode> nodes, ILogger<RendezvousReplicator>? logger = null)
        : this(nodes, localRegion: null, logger, owned: [])
    {
    }

    /// <summary>Creates a replicator over the given nodes, with <paramref name="localRegion"/> as the region uploads write to before they return.</summary>
    /// <exception cref="ArgumentException">No node, a node name given twice, or no node in the local region.</exception>
    public RendezvousReplicator(IEnumerable<StorageNode> nodes, string localRegion, ILogger<RendezvousReplicator>? logger = null)
        : this(nodes, localRegion ?? throw new ArgumentNullException(nameof(localRegion)), logger, owned: [])
    {
    }

    internal RendezvousReplicator(IEnumerable<StorageNode> nodes, string? localRegion, ILogger? logger, IReadOnlyList<IDisposable> owned)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        _nodes = [.. nodes];
        if (_nodes.Length == 0)
        {
            throw new ArgumentException("A replicator needs at least one storage node.", nameof(nodes));
        }

        var duplicate = _nodes.GroupBy(n => n.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Storage node names must be unique; '{duplicate.Key}' is given {duplicate.Count()} times.", nameof(nodes));
        }

        LocalRegion = localRegion ?? _nodes[0].Region;
        _localNodes = [.. _nodes.Where(n => n.Region == LocalRegion)];
        if (_localNodes.Length == 0)
        {
            throw new ArgumentException($"No node is in the local region '{LocalRegion}'.", nameof(localRegion));
        }

        _byRegion = _nodes.GroupBy(n => n.Region, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _remoteRegions = [.. _nodes.Select(n => n.Region).Distinct(StringComparer.Ordinal).Where(r => r != LocalRegion)];
        _seeds = _nodes.ToDictionary(n => n, n => System.IO.Hashing.XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(n.Name)));
        _regionSeeds = _byRegion.Keys.ToDictionary(r => r, r => System.IO.Hashing.XxHash64.HashToUInt64(Encoding.UTF8.GetBytes("region:" + r)), StringComparer.Ordinal);
        _owned = owned;
        _logger = logger ?? NullLogger<RendezvousReplicator>.Instance;
    }

    /// <summary>The nodes, in the order given.</summary>
    public IReadOnlyList<StorageNode> Nodes => _nodes;

    /// <summary>The region uploads write to before they return.</summary>
    public string LocalRegion { get; }

    /// <summary>Copies rewritten by reads since the replicator was made.</summary>
    internal long ReadRepairs => Interlocked.Read(ref _readRepairs);

    /// <summary>Called with each copy a read rewrote.</summary>
    internal Action? ReadRepaired { get; set; }

    /// <summary>Why this topology cannot keep a container of <paramref name="strategy"/>, or null when it can.</summary>
    internal string? CannotMeet(ReplicationStrategy strategy)
    {
        if (strategy == ReplicationStrategy.Single) return null;
        if (_localNodes.Length < LocalCopies)
        {
            return $"{strategy} keeps {LocalCopies} copies on distinct nodes of the local region, and the local region '{LocalRegion}' has {_localNodes.Length} node(s). "
                + $"Add nodes to it (BlobStorageOptions.Topology), or use {nameof(ReplicationStrategy.Single)}.";
        }

        if (strategy is ReplicationStrategy.CrossRegion or ReplicationStrategy.Global && _remoteRegions.Length == 0)
        {
            return $"{strategy} keeps a copy in {(strategy == ReplicationStrategy.Global ? "every" : "one")} other region, and the topology has only the local region '{LocalRegion}'. "
                + $"Add a region (BlobStorageOptions.Topology), or use {nameof(ReplicationStrategy.LocalRedundancy)}.";
        }

        return null;
    }

    /// <summary>How many of <see cref="Place"/>'s nodes are local: those an upload writes before it returns.</summary>
    internal int LocalCount(ChunkPlacement placement) =>
        placement.Strategy == ReplicationStrategy.Single ? 1 : Math.Min(LocalCopies, _localNodes.Length);

    /// <summary>The quorum of local copies an upload needs durable before it returns: all of one, two of two or three.</summary>
    internal static int Quorum(int localCopies) => localCopies <= 1 ? 1 : (localCopies / 2) + 1;

    /// <summary>The nodes a chunk is placed on: the local copies first (the first is the primary), then those in other regions.</summary>
    internal StorageNode[] Place(ChunkId id, ChunkPlacement placement)
    {
        var local = LocalCount(placement);
        var cold = placement.StorageClass is StorageClass.Archive or StorageClass.ColdArchive;
        if (_nodes.Length == 1) return [_nodes[0]];
        var placed = new List<StorageNode>(local + _remoteRegions.Length);
        placed.AddRange(RankForTier(id, _localNodes, cold).Take(local));
        if (placement.Strategy == ReplicationStrategy.CrossRegion && _remoteRegions.Length > 0)
        {
            placed.Add(RankForTier(id, _byRegion[RankRegions(id)[0]], cold)[0]);
        }
        else if (placement.Strategy == ReplicationStrategy.Global)
        {
            foreach (var region in _remoteRegions) placed.Add(RankForTier(id, _byRegion[region], cold)[0]);
        }

        return [.. placed];
    }

    /// <summary>Every node any of <paramref name="placements"/> puts the chunk on, each once, local copies first.</summary>
    internal StorageNode[] PlaceAll(ChunkId id, IEnumerable<ChunkPlacement> placements)
    {
        var all = new List<StorageNode>();
        foreach (var placement in placements)
        {
            foreach (var node in Place(id, placement))
            {
                if (!all.Contains(node)) all.Add(node);
            }
        }

        return [.. all.OrderBy(n => n.Region == LocalRegion ? 0 : 1)];
    }

    /// <summary>The node of that name, or null.</summary>
    internal StorageNode? NodeNamed(string name) => Array.Find(_nodes, n => n.Name == name);

    /// <inheritdoc />
    /// <remarks>Writes every placed copy, remote ones included, and fails when any cannot be written. A store uses <see cref="StageAsync"/> instead, which queues what it cannot write at once.</remarks>
    public async ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, ChunkPlacement placement, CancellationToken cancellationToken = default)
    {
        var targets = Place(id, placement);
        if (targets.Length == 1)
        {
            return await targets[0].Store.WriteAsync(id, content, placement.StorageClass, cancellationToken).ConfigureAwait(false);
        }

        var writes = new Task<bool>[targets.Length];
        for (var i = 0; i < targets.Length; i++)
        {
            writes[i] = targets[i].Store.WriteAsync(id, content, placement.StorageClass, cancellationToken).AsTask();
        }

        var results = await Task.WhenAll(writes).ConfigureAwait(false);
        return results.Any(written => written);
    }

    /// <summary>
    /// Writes the chunk's local copies and returns once <paramref name="content"/> is no longer needed, with a
    /// task that ends when a quorum of them is durable and gives the nodes still owed a copy: local nodes whose
    /// write failed and every node in another region. The task faults when fewer than a quorum could be written.
    /// </summary>
    internal async ValueTask<Task<StorageNode[]>> StageAsync(ChunkId id, ReadOnlyMemory<byte> content, ChunkPlacement placement, CancellationToken cancellationToken)
    {
        var targets = Place(id, placement);
        var local = LocalCount(placement);
        if (targets.Length == 1)
        {
            var durable = await StageOnAsync(targets[0].Store, id, content, placement.StorageClass, cancellationToken).ConfigureAwait(false);
            return durable.IsCompletedSuccessfully ? Task.FromResult<StorageNode[]>([]) : AfterAsync(durable);
        }

        var staged = new Task<Task>[local];
        for (var i = 0; i < local; i++)
        {
            staged[i] = StageOnAsync(targets[i].Store, id, content, placement.StorageClass, cancellationToken).AsTask();
        }

        // Every write has taken its bytes (or failed) before the caller's buffer is handed back.
        await ((Task)Task.WhenAll(staged)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        return FinishAsync(id, targets, local, staged);
    }

    private static async Task<StorageNode[]> AfterAsync(Task durable)
    {
        await durable.ConfigureAwait(false);
        return [];
    }

    private async Task<StorageNode[]> FinishAsync(ChunkId id, StorageNode[] targets, int local, Task<Task>[] staged)
    {
        var owed = new List<StorageNode>();
        ExceptionDispatchInfo? first = null;
        for (var i = 0; i < local; i++)
        {
            try
            {
                await (await staged[i].ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsNodeFailure(ex))
            {
                first ??= ExceptionDispatchInfo.Capture(ex);
                owed.Add(targets[i]);
                Log.CopyWriteFailed(_logger, ex, id.ToString(), targets[i].Name);
            }
        }

        if (local - owed.Count < Quorum(local)) first!.Throw();
        owed.AddRange(targets.AsSpan(local));
        return [.. owed];
    }

    private static async ValueTask<Task> StageOnAsync(IChunkStore store, ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken)
    {
        if (store is IChunkStager stager)
        {
            return await stager.StageAsync(id, content, storageClass, cancellationToken).ConfigureAwait(false) ?? Task.CompletedTask;
        }

        await store.WriteAsync(id, content, storageClass, cancellationToken).ConfigureAwait(false);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        ReadAsync(id, destination, placed: null, cancellationToken);

    /// <summary>
    /// Reads a whole, verified chunk: the <paramref name="placed"/> nodes first (local ones first), then any
    /// other node. Placed copies that were missing or bad before the one that served are rewritten from it;
    /// without a placement only copies that exist and are bad are.
    /// </summary>
    internal async ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, StorageNode[]? placed, CancellationToken cancellationToken)
    {
        var order = placed is null ? ReadOrder(id) : [.. placed, .. ReadOrder(id).Except(placed)];
        List<StorageNode>? bad = null;
        BlobStorageException? lastError = null;
        foreach (var node in order)
        {
            try
            {
                var length = await node.Store.ReadAsync(id, destination, cancellationToken).ConfigureAwait(false);
                if (bad is not null)
                {
                    var repaired = await RepairAsync(id, destination[..length], bad, node, cancellationToken).ConfigureAwait(false);
                    if (repaired > 0)
                    {
                        Interlocked.Add(ref _readRepairs, repaired);
                        for (var i = 0; i < repaired; i++) ReadRepaired?.Invoke();
                    }
                }

                return length;
            }
            catch (BlobStorageException ex) when (ex.ErrorCode is BlobErrorCode.DataCorruption or BlobErrorCode.AccessDenied or BlobErrorCode.IOError)
            {
                lastError = ex;
                if (order.Length == 1) continue;
                if (placed is null ? ex.ErrorCode == BlobErrorCode.DataCorruption && await ExistsOnAsync(node, id, cancellationToken).ConfigureAwait(false) : Array.IndexOf(placed, node) >= 0)
                {
                    (bad ??= []).Add(node);
                }
            }
        }

        throw lastError!;
    }

    /// <summary>Every node, local ones first, each part in rendezvous order.</summary>
    private StorageNode[] ReadOrder(ChunkId id) =>
        _nodes.Length == 1 ? _nodes : [.. Rank(id, _localNodes), .. Rank(id, [.. _nodes.Where(n => n.Region != LocalRegion)])];

    /// <inheritdoc />
    /// <remarks>
    /// Streams from the copy a whole read would try first; if it fails (missing, corrupt, unreadable), the
    /// rest of the range comes from a whole read, which takes the next copy and repairs the bad ones.
    /// </remarks>
    public ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, System.IO.Pipelines.PipeWriter destination, CancellationToken cancellationToken = default) =>
        ReadRangeAsync(chunk, offset, count, destination, placed: null, cancellationToken);

    /// <summary>
    /// Hands a verified range of a chunk on, streamed from the copy <see cref="ReadAsync(ChunkId, Memory{byte}, StorageNode[], CancellationToken)"/>
    /// would try first (the first <paramref name="placed"/> node, or the first in read order). When that copy fails
    /// (missing, corrupt, unreadable), the rest of the range comes from that whole read, which tries the copies in
    /// the same order, serves from the first good one and repairs those before it exactly as a whole read does.
    /// No byte is handed on twice: every byte advanced before the failure was verified, and the rest starts after it.
    /// </summary>
    internal async ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, System.IO.Pipelines.PipeWriter destination, StorageNode[]? placed, CancellationToken cancellationToken)
    {
        ChunkRanges.Validate(chunk, offset, count, destination);
        var first = placed is { Length: > 0 } ? placed[0] : ReadOrder(chunk.Id)[0];
        var counting = new Internal.CountingPipeWriter(destination);
        try
        {
            await first.Store.ReadRangeAsync(chunk, offset, count, counting, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (BlobStorageException ex) when (ex.ErrorCode is BlobErrorCode.DataCorruption or BlobErrorCode.AccessDenied or BlobErrorCode.IOError && _nodes.Length > 1)
        {
            // Every byte handed on was verified; the whole read below serves the rest (and repairs).
        }

        var done = (int)counting.Written;
        await ChunkRanges.ReadWholeAsync(
            chunk,
            offset + done,
            count - done,
            destination,
            (id, buffer, token) => ReadAsync(id, buffer, placed, token),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<int> ScrubAsync(ChunkId id, int length, ChunkPlacement placement, CancellationToken cancellationToken = default)
    {
        var result = await ScrubCopiesAsync(id, length, Place(id, placement), cancellationToken).ConfigureAwait(false);
        if (result.Unrecoverable)
        {
            throw new DataCorruptionException($"Chunk {id} has no intact copy: {result.Problem?.TrimEnd('.') ?? "missing everywhere"}.");
        }

        return result.Repaired;
    }

    /// <summary>What a scrub found of one chunk's copies.</summary>
    internal sealed record CopyScrub(int Checked, int Missing, int Corrupt, int Repaired, bool Unrecoverable, string? Problem, IReadOnlyList<StorageNode> Verified);

    /// <summary>
    /// Reads every copy on <paramref name="targets"/>, checks it against its id (<see cref="ChunkId.Matches"/>), and rewrites those missing or bad
    /// from a good one (looked for on the other nodes too when no target has one).
    /// </summary>
    internal async ValueTask<CopyScrub> ScrubCopiesAsync(ChunkId id, int length, StorageNode[] targets, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        var good = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var bad = new List<StorageNode>();
            var verified = new List<StorageNode>();
            StorageNode? source = null;
            string? problem = null;
            int missing = 0, corrupt = 0, checkedCopies = 0;
            foreach (var node in targets.Concat(ReadOrder(id).Except(targets)))
            {
                var isTarget = Array.IndexOf(targets, node) >= 0;
                if (!isTarget && source is not null) break;
                if (isTarget) checkedCopies++;
                try
                {
                    var read = await node.Store.ReadAsync(id, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    if (read == length && id.Matches(buffer.AsSpan(0, read)))
                    {
                        if (isTarget) verified.Add(node);
                        if (source is null)
                        {
                            source = node;
                            buffer.AsSpan(0, length).CopyTo(good);
                        }

                        continue;
                    }

                    problem = $"a copy on node {node.Name} does not match its id (neither its SHA-256 nor its BLAKE3 hash)";
                    if (isTarget) corrupt++;
                }
                catch (Exception ex) when (ex is BlobStorageException { ErrorCode: BlobErrorCode.DataCorruption or BlobErrorCode.AccessDenied or BlobErrorCode.IOError } or ArgumentException)
                {
                    problem = ex.Message;
                    if (isTarget)
                    {
                        if (await ExistsOnAsync(node, id, cancellationToken).ConfigureAwait(false)) corrupt++;
                        else missing++;
                    }
                }

                if (isTarget) bad.Add(node);
            }

            if (source is null) return new CopyScrub(checkedCopies, missing, corrupt, 0, true, problem, verified);
            var repaired = await RepairAsync(id, good.AsMemory(0, length), bad, source, cancellationToken).ConfigureAwait(false);
            return new CopyScrub(checkedCopies, missing, corrupt, repaired, false, problem, verified);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(good);
        }
    }

    /// <summary>
    /// Puts a copy of the chunk on every target that lacks one (read from a good copy, written, read back and
    /// checked), then, only once every target holds a checked copy, deletes the copies on other nodes.
    /// Returns the copies written and removed; a copy is never deleted while a target lacks one.
    /// </summary>
    internal async ValueTask<(int Written, int Removed)> RebalanceAsync(ChunkId id, int length, StorageNode[] targets, CancellationToken cancellationToken)
    {
        var holders = new List<StorageNode>();
        foreach (var node in _nodes)
        {
            if (await ExistsOnAsync(node, id, cancellationToken).ConfigureAwait(false)) holders.Add(node);
        }

        var lacking = targets.Where(t => !holders.Contains(t)).ToList();
        var extra = holders.Where(h => Array.IndexOf(targets, h) < 0).ToList();
        if (lacking.Count == 0 && extra.Count == 0) return (0, 0);

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var haveGood = false;
            foreach (var node in holders.OrderBy(h => Array.IndexOf(targets, h) < 0 ? 1 : 0))
            {
                if (await IsGoodOnAsync(node, id, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false))
                {
                    haveGood = true;
                    break;
                }
            }

            if (!haveGood) return (0, 0);
            var written = 0;
            var check = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
            try
            {
                foreach (var node in lacking)
                {
                    try
                    {
                        await node.Store.WriteAsync(id, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                        if (await IsGoodOnAsync(node, id, check.AsMemory(0, length), cancellationToken).ConfigureAwait(false)) written++;
                    }
                    catch (Exception ex) when (IsNodeFailure(ex))
                    {
                        Log.CopyWriteFailed(_logger, ex, id.ToString(), node.Name);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(check);
            }

            if (written < lacking.Count) return (written, 0);

            // Every target holds a checked copy now; those that were there already are checked too before any other goes.
            foreach (var node in targets.Where(t => !lacking.Contains(t)))
            {
                if (!await IsGoodOnAsync(node, id, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false)) return (written, 0);
            }

            var removed = 0;
            foreach (var node in extra)
            {
                try
                {
                    if (await node.Store.DeleteAsync(id, cancellationToken).ConfigureAwait(false)) removed++;
                }
                catch (Exception ex) when (IsNodeFailure(ex))
                {
                    Log.CopyWriteFailed(_logger, ex, id.ToString(), node.Name);
                }
            }

            return (written, removed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes a copy owed to <paramref name="target"/> from a good copy elsewhere. True when the target holds a
    /// good copy afterwards; false when no good copy could be read (the chunk is gone, or every copy is bad).
    /// </summary>
    /// <exception cref="BlobStorageException">The target could not be written.</exception>
    internal async ValueTask<bool> CopyToAsync(ChunkId id, int length, StorageNode target, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            foreach (var node in ReadOrder(id))
            {
                if (node == target) continue;
                if (!await IsGoodOnAsync(node, id, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false)) continue;
                await target.Store.WriteAsync(id, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                return true;
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask<bool> IsGoodOnAsync(StorageNode node, ChunkId id, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            var read = await node.Store.ReadAsync(id, buffer, cancellationToken).ConfigureAwait(false);
            return read == buffer.Length && id.Matches(buffer.Span[..read]);
        }
        catch (Exception ex) when (IsNodeFailure(ex) || ex is ArgumentException)
        {
            return false;
        }
    }

    private static async ValueTask<bool> ExistsOnAsync(StorageNode node, ChunkId id, CancellationToken cancellationToken)
    {
        try
        {
            return await node.Store.ExistsAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsNodeFailure(ex))
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        foreach (var node in ReadOrder(id))
        {
            if (await ExistsOnAsync(node, id, cancellationToken).ConfigureAwait(false)) return true;
        }

        return false;
    }

    /// <inheritdoc />
    /// <remarks>A node that cannot be reached keeps its copy, which the orphan sweep of a later open removes; the call fails only when no node could be asked.</remarks>
    public async ValueTask<int> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        var removed = 0;
        ExceptionDispatchInfo? first = null;
        var failed = 0;
        foreach (var node in _nodes)
        {
            try
            {
                if (await node.Store.DeleteAsync(id, cancellationToken).ConfigureAwait(false)) removed++;
            }
            catch (Exception ex) when (IsNodeFailure(ex))
            {
                first ??= ExceptionDispatchInfo.Capture(ex);
                failed++;
                Log.CopyDeleteFailed(_logger, ex, id.ToString(), node.Name);
            }
        }

        if (failed == _nodes.Length) first!.Throw();
        return removed;
    }

    /// <inheritdoc />
    public async ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        DateTimeOffset? newest = null;
        ExceptionDispatchInfo? first = null;
        var failed = 0;
        foreach (var node in _nodes)
        {
            try
            {
                var written = await node.Store.GetLastWriteTimeAsync(id, cancellationToken).ConfigureAwait(false);
                if (written > newest || newest is null) newest = written;
            }
            catch (Exception ex) when (IsNodeFailure(ex))
            {
                first ??= ExceptionDispatchInfo.Capture(ex);
                failed++;
            }
        }

        if (failed == _nodes.Length) first!.Throw();
        return newest;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChunkId> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_nodes.Length == 1)
        {
            await foreach (var id in _nodes[0].Store.EnumerateAsync(cancellationToken).ConfigureAwait(false)) yield return id;
            yield break;
        }

        var seen = new HashSet<ChunkId>();
        foreach (var node in _nodes)
        {
            await foreach (var id in node.Store.EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                if (seen.Add(id)) yield return id;
            }
        }
    }

    /// <summary>Disposes the chunk stores the replicator made from the options; stores it was given are the caller's.</summary>
    public void Dispose()
    {
        foreach (var owned in _owned) owned.Dispose();
    }

    internal static bool IsNodeFailure(Exception ex) =>
        ex is BlobStorageException or IOException or UnauthorizedAccessException;

    /// <summary>A region's nodes for a tier: the preferred tier ranked, then the other tier ranked.</summary>
    private StorageNode[] RankForTier(ChunkId id, StorageNode[] region, bool cold)
    {
        var ranked = Rank(id, region);
        if (!ranked.Any(n => n.IsCold) || ranked.All(n => n.IsCold)) return ranked;
        return [.. ranked.Where(n => n.IsCold == cold), .. ranked.Where(n => n.IsCold != cold)];
    }

    private string[] RankRegions(ChunkId id)
    {
        Span<byte> key = stackalloc byte[ChunkId.Size];
        id.WriteTo(key);
        var scores = new (ulong Score, string Region)[_remoteRegions.Length];
        for (var i = 0; i < _remoteRegions.Length; i++)
        {
            scores[i] = (System.IO.Hashing.XxHash64.HashToUInt64(key, (long)_regionSeeds[_remoteRegions[i]]), _remoteRegions[i]);
        }

        Array.Sort(scores, (a, b) => b.Score.CompareTo(a.Score));
        return [.. scores.Select(s => s.Region)];
    }

    private StorageNode[] Rank(ChunkId id, StorageNode[] nodes)
    {
        if (nodes.Length <= 1) return nodes;
        Span<byte> key = stackalloc byte[ChunkId.Size];
        id.WriteTo(key);
        var scores = new (ulong Score, StorageNode Node)[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            scores[i] = (System.IO.Hashing.XxHash64.HashToUInt64(key, (long)_seeds[nodes[i]]), nodes[i]);
        }

        Array.Sort(scores, (a, b) => b.Score.CompareTo(a.Score));
        return [.. scores.Select(s => s.Node)];
    }

    private async ValueTask<int> RepairAsync(ChunkId id, ReadOnlyMemory<byte> good, List<StorageNode> bad, StorageNode source, CancellationToken cancellationToken)
    {
        var repaired = 0;
        foreach (var node in bad)
        {
            try
            {
                // A corrupt file may still exist, so it must go before the good bytes can be written back.
                await node.Store.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                await node.Store.WriteAsync(id, good, cancellationToken).ConfigureAwait(false);
                repaired++;
                Log.ChunkRepaired(_logger, id.ToString(), node.Name, source.Name);
            }
            catch (Exception ex) when (IsNodeFailure(ex))
            {
                Log.ChunkRepairFailed(_logger, ex, id.ToString(), node.Name);
            }
        }

        return repaired;
    }
}
