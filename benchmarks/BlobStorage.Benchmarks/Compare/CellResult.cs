namespace BlobStorage.Benchmarks.Compare;

/// <summary>One row of the table: a peer, an operation, a size and a number of tasks, over every run.</summary>
internal sealed class CellResult
{
    public required string Peer { get; init; }

    public required string Op { get; init; }

    /// <summary>The size's label (<c>4k</c> … <c>1g</c>); for a listing, the blobs listed among how many.</summary>
    public required string Size { get; init; }

    public required string SizeDisplay { get; init; }

    /// <summary>Bytes moved per operation; 0 for list and delete, which move none.</summary>
    public required long SizeBytes { get; init; }

    public required int Tasks { get; init; }

    public required bool Durable { get; init; }

    public List<CellRun> Runs { get; } = [];

    /// <summary>The medians over the runs that succeeded; null when none did.</summary>
    public CellSummary? Median { get; private set; }

    public void Summarize()
    {
        var ok = Runs.Where(r => r.Error is null).OrderBy(r => r.OpsPerSecond).ToList();
        if (ok.Count == 0)
        {
            Median = null;
            return;
        }

        // p50, p99 and working set come from the run whose throughput is the median (the lower middle of an even count).
        var middle = ok[(ok.Count - 1) / 2];
        Median = new CellSummary
        {
            Runs = ok.Count,
            Operations = middle.Operations,
            OpsPerSecond = MedianOf(ok.Select(r => r.OpsPerSecond)),
            MegabytesPerSecond = SizeBytes > 0 ? MedianOf(ok.Select(r => r.MegabytesPerSecond ?? 0)) : null,
            P50Milliseconds = middle.P50Milliseconds,
            P99Milliseconds = middle.P99Milliseconds,
            StartWorkingSet = middle.StartWorkingSet,
            PeakWorkingSet = middle.PeakWorkingSet,
            RatioToFileStore = MedianOrNull(ok.Select(r => r.RatioToFileStore)),
            RatioToLiteDb = MedianOrNull(ok.Select(r => r.RatioToLiteDb)),
            DiskGrowthBytes = middle.DiskGrowthBytes,
        };
    }

    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double? MedianOrNull(IEnumerable<double?> values)
    {
        var present = values.OfType<double>().ToArray();
        return present.Length == 0 ? null : MedianOf(present);
    }
}

/// <summary>One run of a cell.</summary>
internal sealed class CellRun
{
    public int Run { get; set; }

    public int Operations { get; init; }

    /// <summary>Wall-clock seconds of the cell, from its first operation's start to its last one's end.</summary>
    public double Seconds { get; init; }

    public double OpsPerSecond { get; init; }

    /// <summary>10^6 bytes per second; null for list and delete.</summary>
    public double? MegabytesPerSecond { get; init; }

    public double P50Milliseconds { get; init; }

    public double P99Milliseconds { get; init; }

    public long StartWorkingSet { get; init; }

    public long PeakWorkingSet { get; init; }

    /// <summary>For put-dup: how much the peer's folder grew, in bytes.</summary>
    public long? DiskGrowthBytes { get; set; }

    public string? Error { get; init; }

    /// <summary>Whether a get returned bytes other than those put (never a limit of the peer: a bug).</summary>
    public bool WrongData { get; init; }

    public double? RatioToFileStore { get; set; }

    public double? RatioToLiteDb { get; set; }
}

/// <summary>A cell's medians over its runs.</summary>
internal sealed class CellSummary
{
    public int Runs { get; init; }

    public int Operations { get; init; }

    public double OpsPerSecond { get; init; }

    public double? MegabytesPerSecond { get; init; }

    public double P50Milliseconds { get; init; }

    public double P99Milliseconds { get; init; }

    public long StartWorkingSet { get; init; }

    public long PeakWorkingSet { get; init; }

    public long PeakWorkingSetGrowth => PeakWorkingSet - StartWorkingSet;

    public double? RatioToFileStore { get; init; }

    public double? RatioToLiteDb { get; init; }

    public long? DiskGrowthBytes { get; init; }
}
