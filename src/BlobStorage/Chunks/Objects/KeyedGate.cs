namespace BlobStorage.Chunks.Objects;

/// <summary>
/// One operation at a time per key, in this process: a second write or delete of the same chunk waits for the first,
/// so "already stored" and "deleted" answers are exact here even where the service cannot create or delete conditionally.
/// </summary>
internal sealed class KeyedGate<TKey>
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, TaskCompletionSource> _held = [];

    /// <summary>Waits until no other holder has <paramref name="key"/>, then holds it until the returned value is disposed.</summary>
    public async ValueTask<Holder> EnterAsync(TKey key, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task other;
            lock (_lock)
            {
                if (!_held.TryGetValue(key, out var holder))
                {
                    var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _held[key] = mine;
                    return new Holder(this, key, mine);
                }

                other = holder.Task;
            }

            await other.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void Release(TKey key, TaskCompletionSource mine)
    {
        lock (_lock) _held.Remove(key);
        mine.SetResult();
    }

    /// <summary>Holds a key of the gate until disposed.</summary>
    public readonly struct Holder(KeyedGate<TKey> gate, TKey key, TaskCompletionSource mine) : IDisposable
    {
        public void Dispose() => gate.Release(key, mine);
    }
}
