namespace BlobStorage.Abstractions;

/// <summary>What <see cref="IBlobStore.RebalanceAsync"/> did.</summary>
public sealed class RebalanceReport
{
    /// <summary>Distinct chunks looked at.</summary>
    public long ChunksChecked { get; init; }

    /// <summary>Copies written to nodes that placement now names and that lacked them (read back and checked).</summary>
    public long CopiesWritten { get; init; }

    /// <summary>Copies deleted from nodes placement no longer names, each only after every node it names held a checked copy.</summary>
    public long CopiesRemoved { get; init; }
}
