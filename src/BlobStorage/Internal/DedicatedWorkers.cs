using System.Collections.Concurrent;

namespace BlobStorage.Internal;

/// <summary>
/// A few threads of their own for work that blocks in the kernel (flushing files to disk). On the
/// thread pool such work starves everything else: the pool sees busy threads, not blocked ones,
/// and grows slowly, so on a small machine a few uploads waiting for their flushes would hold
/// every pool thread while the continuations that hash and write the next chunks wait in line.
/// </summary>
internal sealed class DedicatedWorkers : IDisposable
{
    private readonly BlockingCollection<Action> _queue = [];
    private readonly int _count;
    private readonly string _name;
    private int _started;

    /// <summary>Creates <paramref name="count"/> workers, started on first use.</summary>
    public DedicatedWorkers(int count, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _count = count;
        _name = name;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a worker; the task ends with it, faulted if it throws. After
    /// <see cref="Dispose"/> the work runs on the caller's thread instead, so it is never dropped.
    /// </summary>
    public Task Run(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Job()
        {
            try
            {
                work();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }

        if (Interlocked.Exchange(ref _started, 1) == 0) Start();
        try
        {
            _queue.Add(Job);
        }
        catch (InvalidOperationException)
        {
            // Disposed: no worker takes new work any more.
            Job();
        }

        return done.Task;
    }

    /// <summary>Lets the workers finish what is queued and end; later work runs on its caller's thread.</summary>
    public void Dispose() => _queue.CompleteAdding();

    private void Start()
    {
        for (var i = 0; i < _count; i++)
        {
            new Thread(Work) { IsBackground = true, Name = _name }.Start();
        }
    }

    private void Work()
    {
        foreach (var job in _queue.GetConsumingEnumerable()) job();
    }
}
