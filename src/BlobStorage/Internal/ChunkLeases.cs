using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// Keeps the collector away from chunks that work in flight depends on. An upload pins each chunk
/// before it checks or writes the chunk's file and unpins after its commit, so a chunk it found
/// already stored cannot be deleted before the commit counts a reference to it. The collector
/// marks a chunk before deleting it; a pin on a chunk being collected waits for the deletion to end
/// and the upload then writes the chunk again.
/// </summary>
internal sealed class ChunkLeases
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ChunkId, int> _pins = [];
    private readonly Dictionary<ChunkId, TaskCompletionSource> _collecting = [];
    private long _epoch;

    /// <summary>Counts ended collections: a reader that sees it unchanged across its pins knows none of its chunks was deleted meanwhile.</summary>
    public long CollectionEpoch => Interlocked.Read(ref _epoch);

    public async ValueTask PinAsync(ChunkId id, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (!_collecting.TryGetValue(id, out var collection))
                {
                    _pins[id] = _pins.GetValueOrDefault(id) + 1;
                    return;
                }

                wait = collection.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Unpin(ChunkId id)
    {
        lock (_gate)
        {
            var count = _pins[id] - 1;
            if (count == 0) _pins.Remove(id);
            else _pins[id] = count;
        }
    }

    public void UnpinAll(IEnumerable<ChunkId> ids)
    {
        foreach (var id in ids) Unpin(id);
    }

    public bool IsPinned(ChunkId id)
    {
        lock (_gate) return _pins.ContainsKey(id);
    }

    /// <summary>Marks a chunk as being collected; false when something has it pinned (or it is being collected already).</summary>
    public bool TryBeginCollect(ChunkId id)
    {
        lock (_gate)
        {
            if (_pins.ContainsKey(id) || _collecting.ContainsKey(id)) return false;
            _collecting[id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return true;
        }
    }

    public void EndCollect(ChunkId id)
    {
        TaskCompletionSource? collection;
        lock (_gate)
        {
            if (!_collecting.Remove(id, out collection)) return;
            Interlocked.Increment(ref _epoch);
        }

        collection.TrySetResult();
    }
}
