using System.Runtime.CompilerServices;
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
/// node moves only the chunks it now wins. Reads try copies in placement order, and a copy that is
/// missing or fails its checksum is rewritten from a good one.
/// </summary>
/// <remarks>
/// Copies are placed in the local region (the first node's): <see cref="ReplicationStrategy.Single"/>
/// keeps one, the other strategies up to three on distinct nodes. Copies in other regions belong
/// to the cross-region queue, which this replicator does not have yet.
/// </remarks>
public sealed class RendezvousReplicator : IReplicator
{
    private const int LocalRedundancyCopies = 3;
    private readonly StorageNode[] _nodes;
    private readonly StorageNode[] _localNodes;
    private readonly ulong[] _nodeSeeds;
    private readonly ILogger _logger;

    /// <summary>Creates a replicator over the given nodes; the first node's region is the local one.</summary>
    public RendezvousReplicator(IEnumerable<StorageNode> nodes, ILogger<RendezvousReplicator>? logger = null)
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

        var localRegion = _nodes[0].Region;
        _localNodes = [.. _nodes.Where(n => n.Region == localRegion)];
        _nodeSeeds = [.. _nodes.Select(n => System.IO.Hashing.XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(n.Name)))];
        _logger = logger ?? NullLogger<RendezvousReplicator>.Instance;
    }

    /// <summary>The nodes, in the order given.</summary>
    public IReadOnlyList<StorageNode> Nodes => _nodes;

    /// <inheritdoc />
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
    /// Like <see cref="WriteAsync"/>, but returns once <paramref name="content"/> is no longer needed,
    /// with a task that ends when every copy is durable: stores that can stage a chunk flush it in
    /// the background, the others are written durably before this returns.
    /// </summary>
    internal async ValueTask<Task> StageAsync(ChunkId id, ReadOnlyMemory<byte> content, ChunkPlacement placement, CancellationToken cancellationToken)
    {
        var targets = Place(id, placement);
        if (targets.Length == 1)
        {
            return await StageOnAsync(targets[0].Store, id, content, placement.StorageClass, cancellationToken).ConfigureAwait(false);
        }

        var staged = new Task<Task>[targets.Length];
        for (var i = 0; i < targets.Length; i++)
        {
            staged[i] = StageOnAsync(targets[i].Store, id, content, placement.StorageClass, cancellationToken).AsTask();
        }

        try
        {
            await Task.WhenAll(staged).ConfigureAwait(false);
        }
        catch
        {
            // Copies that were staged still finish their flush before the failure is reported.
            await Task.WhenAll(staged.Where(s => s.IsCompletedSuccessfully).Select(s => s.Result)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        return Task.WhenAll(staged.Select(s => s.Result));
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
    public async ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        var order = RankAll(id);
        List<StorageNode>? bad = null;
        BlobStorageException? lastError = null;
        foreach (var node in order)
        {
            try
            {
                var length = await node.Store.ReadAsync(id, destination, cancellationToken).ConfigureAwait(false);
                if (bad is not null)
                {
                    await RepairAsync(id, destination[..length], bad, node, cancellationToken).ConfigureAwait(false);
                }

                return length;
            }
            catch (BlobStorageException ex) when (ex.ErrorCode is BlobErrorCode.DataCorruption or BlobErrorCode.AccessDenied or BlobErrorCode.IOError)
            {
                lastError = ex;

                // A node ranked before the one that serves the read is one placement would choose: a bad
                // or lost copy there is rewritten. (A node that never held the chunk is only ranked after.)
                if (order.Length > 1) (bad ??= []).Add(node);
            }
        }

        throw lastError!;
    }

    /// <inheritdoc />
    public async ValueTask<int> ScrubAsync(ChunkId id, int length, ChunkPlacement placement, CancellationToken cancellationToken = default)
    {
        var placed = Place(id, placement);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        var good = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var bad = new List<StorageNode>();
            StorageNode? source = null;
            string? problem = null;
            foreach (var node in placed.Concat(RankAll(id).Except(placed)))
            {
                var isPlaced = Array.IndexOf(placed, node) >= 0;
                if (source is not null && !isPlaced) break;
                try
                {
                    var read = await node.Store.ReadAsync(id, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    if (read == length && ChunkId.Compute(buffer.AsSpan(0, read)) == id)
                    {
                        if (source is null)
                        {
                            source = node;
                            buffer.AsSpan(0, length).CopyTo(good);
                        }

                        continue;
                    }

                    problem = $"a copy on node {node.Name} does not match its SHA-256";
                }
                catch (Exception ex) when (ex is BlobStorageException { ErrorCode: BlobErrorCode.DataCorruption or BlobErrorCode.AccessDenied or BlobErrorCode.IOError } or ArgumentException)
                {
                    problem = ex.Message;
                }

                if (isPlaced) bad.Add(node);
            }

            if (source is null)
            {
                throw new DataCorruptionException($"Chunk {id} has no intact copy: {problem?.TrimEnd('.') ?? "missing everywhere"}.");
            }

            await RepairAsync(id, good.AsMemory(0, length), bad, source, cancellationToken).ConfigureAwait(false);
            return bad.Count;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            System.Buffers.ArrayPool<byte>.Shared.Return(good);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        foreach (var node in RankAll(id))
        {
            if (await node.Store.ExistsAsync(id, cancellationToken).ConfigureAwait(false)) return true;
        }

        return false;
    }

    /// <inheritdoc />
    public async ValueTask<int> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        var removed = 0;
        foreach (var node in _nodes)
        {
            if (await node.Store.DeleteAsync(id, cancellationToken).ConfigureAwait(false)) removed++;
        }

        return removed;
    }

    /// <inheritdoc />
    public async ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        DateTimeOffset? newest = null;
        foreach (var node in _nodes)
        {
            var written = await node.Store.GetLastWriteTimeAsync(id, cancellationToken).ConfigureAwait(false);
            if (written > newest || newest is null) newest = written;
        }

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

    /// <summary>The nodes a chunk is placed on, best first.</summary>
    internal StorageNode[] Place(ChunkId id, ChunkPlacement placement)
    {
        var copies = placement.Strategy == ReplicationStrategy.Single ? 1 : Math.Min(LocalRedundancyCopies, _localNodes.Length);
        if (_localNodes.Length == 1) return [_localNodes[0]];
        return [.. Rank(id, _localNodes).Take(copies)];
    }

    private StorageNode[] RankAll(ChunkId id) => _nodes.Length == 1 ? _nodes : Rank(id, _nodes);

    private StorageNode[] Rank(ChunkId id, StorageNode[] nodes)
    {
        Span<byte> key = stackalloc byte[ChunkId.Size];
        id.WriteTo(key);
        var scores = new (ulong Score, StorageNode Node)[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            var seed = _nodeSeeds[Array.IndexOf(_nodes, nodes[i])];
            scores[i] = (System.IO.Hashing.XxHash64.HashToUInt64(key, (long)seed), nodes[i]);
        }

        Array.Sort(scores, (a, b) => b.Score.CompareTo(a.Score));
        return [.. scores.Select(s => s.Node)];
    }

    private async ValueTask RepairAsync(ChunkId id, ReadOnlyMemory<byte> good, List<StorageNode> bad, StorageNode source, CancellationToken cancellationToken)
    {
        foreach (var node in bad)
        {
            try
            {
                // A corrupt file may still exist, so it must go before the good bytes can be written back.
                await node.Store.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                await node.Store.WriteAsync(id, good, cancellationToken).ConfigureAwait(false);
                Log.ChunkRepaired(_logger, id.ToString(), node.Name, source.Name);
            }
            catch (Exception ex) when (ex is BlobStorageException or IOException or UnauthorizedAccessException)
            {
                Log.ChunkRepairFailed(_logger, ex, id.ToString(), node.Name);
            }
        }
    }
}
