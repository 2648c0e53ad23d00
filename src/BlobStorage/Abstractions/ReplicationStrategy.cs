namespace BlobStorage.Abstractions;

/// <summary>How many copies of each chunk a container asks for, and where.</summary>
/// <remarks>
/// The replicator places copies on the nodes it has been given. A strategy asks for at most what
/// the configured topology offers: with a single node every strategy keeps one copy.
/// </remarks>
public enum ReplicationStrategy
{
    /// <summary>One copy on one node. The default.</summary>
#pragma warning disable CA1720 // The strategy names are contract (docs/architecture.md).
    Single = 0,
#pragma warning restore CA1720

    /// <summary>Up to three copies on distinct nodes of the local region.</summary>
    LocalRedundancy = 1,

    /// <summary>Local redundancy plus a copy in a second region.</summary>
    CrossRegion = 2,

    /// <summary>Local redundancy plus a copy in every region.</summary>
    Global = 3,
}
