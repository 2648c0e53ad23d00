namespace BlobStorage.Abstractions;

/// <summary>One copy of one chunk of a blob: where it is, its role, its checksums and when it was last verified.</summary>
public sealed record ChunkCopyLocation
{
    /// <summary>The chunk's position in the blob, from 0.</summary>
    public int ChunkIndex { get; init; }

    /// <summary>The chunk's id, its name: the hash of its bytes (see <see cref="ChunkId"/>).</summary>
    public ChunkId Chunk { get; init; }

    /// <summary>Where the chunk starts in the blob, in bytes.</summary>
    public long Offset { get; init; }

    /// <summary>The chunk's length in bytes.</summary>
    public int Length { get; init; }

    /// <summary>The node's name.</summary>
    public required string Node { get; init; }

    /// <summary>The node's region.</summary>
    public required string Region { get; init; }

    /// <summary>True for the primary copy (the first the placement names, in the local region); false for a replica.</summary>
    public bool IsPrimary { get; init; }

    /// <summary>True when the node is a cold-tier node.</summary>
    public bool IsCold { get; init; }

    /// <summary>Whether the node holds the copy.</summary>
    public ChunkCopyState State { get; init; }

    /// <summary>
    /// The fast checksum (XxHash3) stored with the copy, when the node keeps one and it could be read; null otherwise.
    /// For a chunk file with a checksum per block, the XxHash3 of its table of block checksums.
    /// </summary>
    public ulong? StoredChecksum { get; init; }

    /// <summary>When the copy was last read back and matched its id (by a scrub, a rebalance or a queued copy); null when never.</summary>
    public DateTimeOffset? LastVerifiedOn { get; init; }
}
