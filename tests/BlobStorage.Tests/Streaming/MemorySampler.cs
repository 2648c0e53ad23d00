namespace BlobStorage.Tests.Streaming;

/// <summary>
/// Samples the managed heap and the working set on a background loop while a phase runs and keeps
/// the peaks. The baseline is taken after a full collection, so the growth counts what the phase
/// itself holds (and the garbage it leaves before the collector runs).
/// </summary>
public sealed class MemorySampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peakManaged;
    private long _peakWorkingSet;

    private MemorySampler()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        BaselineManaged = GC.GetTotalMemory(forceFullCollection: true);
        BaselineWorkingSet = Environment.WorkingSet;
        _peakManaged = BaselineManaged;
        _peakWorkingSet = BaselineWorkingSet;
        _loop = Task.Run(SampleAsync);
    }

    public static MemorySampler Start() => new();

    public long BaselineManaged { get; }

    public long BaselineWorkingSet { get; }

    public long PeakManaged => Interlocked.Read(ref _peakManaged);

    public long PeakWorkingSet => Interlocked.Read(ref _peakWorkingSet);

    public long ManagedGrowth => PeakManaged - BaselineManaged;

    public long WorkingSetGrowth => PeakWorkingSet - BaselineWorkingSet;

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Sample();
            try
            {
                // A sampler's period, not a wait in the test: the phase runs meanwhile.
                await Task.Delay(5, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void Sample()
    {
        var managed = GC.GetTotalMemory(forceFullCollection: false);
        var workingSet = Environment.WorkingSet;
        if (managed > Interlocked.Read(ref _peakManaged)) Interlocked.Exchange(ref _peakManaged, managed);
        if (workingSet > Interlocked.Read(ref _peakWorkingSet)) Interlocked.Exchange(ref _peakWorkingSet, workingSet);
    }

    /// <summary>Stops sampling after one last sample.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync();
        await _loop;
        Sample();
        _stop.Dispose();
    }

    public override string ToString() =>
        $"managed heap peak {Mib(PeakManaged)} (baseline {Mib(BaselineManaged)}, growth {Mib(ManagedGrowth)}); " +
        $"working set peak {Mib(PeakWorkingSet)} (baseline {Mib(BaselineWorkingSet)}, growth {Mib(WorkingSetGrowth)})";

    public static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB";
}
