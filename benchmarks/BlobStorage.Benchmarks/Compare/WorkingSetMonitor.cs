using System.Diagnostics;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// Samples the process's working set (<see cref="Process.WorkingSet64"/>) every 20 ms on a thread
/// of its own (so a busy thread pool cannot delay it) and keeps the highest value since the last
/// <see cref="Reset"/>.
/// </summary>
internal sealed class WorkingSetMonitor : IDisposable
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly Lock _lock = new();
    private readonly Thread _thread;
    private readonly TimeSpan _interval;
    private volatile bool _stopped;
    private long _peak;

    public WorkingSetMonitor(TimeSpan interval)
    {
        _interval = interval;
        _thread = new Thread(Loop) { IsBackground = true, Name = "compare: working set" };
        _thread.Start();
    }

    /// <summary>Starts a new cell: forgets the peak and returns the working set now.</summary>
    public long Reset()
    {
        lock (_lock)
        {
            _peak = 0;
            return Sample();
        }
    }

    /// <summary>The highest working set seen since <see cref="Reset"/>, this moment included.</summary>
    public long Peak()
    {
        lock (_lock)
        {
            Sample();
            return _peak;
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _thread.Join();
        _process.Dispose();
    }

    private void Loop()
    {
        while (!_stopped)
        {
            lock (_lock)
            {
                Sample();
            }

            Thread.Sleep(_interval);
        }
    }

    // Process is not thread-safe: always called under the lock.
    private long Sample()
    {
        _process.Refresh();
        var workingSet = _process.WorkingSet64;
        _peak = Math.Max(_peak, workingSet);
        return workingSet;
    }
}
