namespace BlobStorage.Abstractions;

/// <summary>What <see cref="IBlobStore.ScrubAsync"/> found and did.</summary>
public sealed class ScrubReport
{
    /// <summary>Distinct chunks scrubbed.</summary>
    public long ChunksChecked { get; init; }

    /// <summary>Copies read and checked against their id (SHA-256 or BLAKE3, see ChunkId), on every node placement names.</summary>
    public long CopiesChecked { get; init; }

    /// <summary>Copies present but damaged (failed their checksum or did not match their id).</summary>
    public long CorruptCopies { get; init; }

    /// <summary>Copies placement names that were not there.</summary>
    public long MissingCopies { get; init; }

    /// <summary>Corrupt or missing copies rewritten from a good one.</summary>
    public long RepairedCopies { get; init; }

    /// <summary>Chunks with no good copy left on any node: the blobs holding them cannot be read.</summary>
    public long UnrecoverableChunks { get; init; }

    /// <summary>The chunks with no good copy left.</summary>
    public IReadOnlyList<ChunkId> Unrecoverable { get; init; } = [];

    /// <summary>Bytes read and verified.</summary>
    public long BytesVerified { get; init; }

    /// <summary>How long the scrub took (by the store's clock).</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>True when no copy was corrupt or missing.</summary>
    public bool IsClean => CorruptCopies == 0 && MissingCopies == 0 && UnrecoverableChunks == 0;
}
