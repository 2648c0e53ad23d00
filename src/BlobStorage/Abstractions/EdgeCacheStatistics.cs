namespace BlobStorage.Abstractions;

/// <summary>What the edge locations served, each and in total.</summary>
public sealed class EdgeCacheStatistics
{
    /// <summary>The sums over every edge location.</summary>
    public required EdgeLocationStatistics Total { get; init; }

    /// <summary>Each edge location that has served a read or been invalidated, in ordinal order of names.</summary>
    public required IReadOnlyList<EdgeLocationStatistics> Edges { get; init; }
}
