using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace BlobStorage.Benchmarks;

/// <summary>
/// Throughput of a benchmark whose <c>Size</c> parameter is the bytes moved per operation:
/// MB/s (10^6 bytes per second) from the mean time of one operation.
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    /// <summary>The parameter that holds the bytes moved by one operation.</summary>
    public const string SizeParameter = "Size";

    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Throughput: the Size parameter in bytes divided by the mean time of one operation, in 10^6 bytes per second";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var report = summary[benchmarkCase];
        var meanNanoseconds = report?.ResultStatistics?.Mean;
        var size = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == SizeParameter)?.Value;
        if (meanNanoseconds is not > 0 || size is null)
        {
            return "-";
        }

        var bytes = Convert.ToDouble(size, CultureInfo.InvariantCulture);
        return (bytes / meanNanoseconds.Value * 1e9 / 1e6).ToString("N1", CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
