namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// A blob size of the comparison and how many blobs a put cell writes at it: enough for a cell of
/// about one to three seconds on the baseline, never so many that the slow peers take minutes.
/// </summary>
internal sealed record SizeSpec(string Label, string Display, long Bytes, int PutCount)
{
    public static readonly string[] Labels = ["4k", "64k", "1m", "64m", "1g"];

    private static readonly SizeSpec[] Full =
    [
        new("4k", "4 KiB", 4L * 1024, 2_000),
        new("64k", "64 KiB", 64L * 1024, 1_000),
        new("1m", "1 MiB", 1024L * 1024, 200),
        new("64m", "64 MiB", 64L * 1024 * 1024, 8),
        new("1g", "1 GiB", 1024L * 1024 * 1024, 2),
    ];

    /// <summary>Blobs put before a small size's put cell, untimed, so no cell pays for first use.</summary>
    public int WarmUpCount => Bytes <= 1024 * 1024 ? 8 : 0;

    /// <summary>Blobs written by a put cell with <paramref name="tasks"/> tasks: every task gets at least one.</summary>
    public int PutCountFor(int tasks) => Math.Max(PutCount, tasks);

    public static SizeSpec[] Select(IEnumerable<string> labels, bool quick)
    {
        var wanted = labels.ToHashSet(StringComparer.Ordinal);
        return Full.Where(s => wanted.Contains(s.Label))
            .Select(s => quick ? s with { PutCount = Math.Max(2, s.PutCount / 8) } : s)
            .ToArray();
    }
}
