namespace BlobStorage.Abstractions;

/// <summary>What a consistency check found. <see cref="IsClean"/> when metadata and chunks agree.</summary>
public sealed class VerificationReport
{
    /// <summary>
    /// Blobs whose metadata names a chunk that is missing, unreadable (or, in a deep check, corrupt), and blobs
    /// whose size disagrees with their chunk list or inline content (those carry the default <see cref="ChunkId"/>).
    /// </summary>
    public required IReadOnlyList<MissingChunk> MissingChunks { get; init; }

    /// <summary>Chunks stored that no metadata row refers to, written longer than the grace period ago (see <see cref="OrphansWithinGracePeriod"/> for the younger ones).</summary>
    public required IReadOnlyList<ChunkId> UnreferencedChunks { get; init; }

    /// <summary>Chunks whose stored reference count differs from the references counted in blob rows.</summary>
    public required IReadOnlyList<ChunkId> ReferenceCountMismatches { get; init; }

    /// <summary>
    /// Chunk files that nothing references but that were written within the grace period: a commit may still
    /// be on its way to them, so they are not problems yet; maintenance removes them once they are older.
    /// </summary>
    public long OrphansWithinGracePeriod { get; init; }

    /// <summary>Chunks no blob uses any more, waiting for the grace period to end before collection.</summary>
    public long ChunksAwaitingCollection { get; init; }

    /// <summary>How many blobs were checked.</summary>
    public long BlobsChecked { get; init; }

    /// <summary>How many stored chunks were checked.</summary>
    public long ChunksChecked { get; init; }

    /// <summary>True when nothing is missing, unreferenced or miscounted.</summary>
    public bool IsClean => MissingChunks.Count == 0 && UnreferencedChunks.Count == 0 && ReferenceCountMismatches.Count == 0;
}

/// <summary>A blob whose chunk is missing or corrupt.</summary>
/// <param name="Container">The blob's container.</param>
/// <param name="Name">The blob's name.</param>
/// <param name="Chunk">The chunk that is missing or corrupt.</param>
/// <param name="Reason">What was found.</param>
public sealed record MissingChunk(string Container, string Name, ChunkId Chunk, string Reason);
