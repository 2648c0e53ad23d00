using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace BlobStorage.Benchmarks;

/// <summary>Adds the throughput columns (MB/s from the Size parameter, and operations per second) to the summary.</summary>
public sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        AddColumn(new ThroughputColumn(), StatisticColumn.OperationsPerSecond);
    }
}
