using System.IO.Pipelines;

namespace BlobStorage.Abstractions;

/// <summary>
/// Places each chunk on the nodes a container's <see cref="ReplicationStrategy"/> asks for and reads
/// it back from whichever copy is good, repairing bad copies on the way.
/// </summary>
public interface IReplicator
{
    /// <summary>
    /// Stores a chunk on every node the placement puts it on, durably, before returning.
    /// Returns false when every copy already existed and nothing was written.
    /// </summary>
    ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, ChunkPlacement placement, CancellationToken cancellationToken = default);

    /// <summary>Reads a whole, verified chunk from the first good copy; see <see cref="IChunkStore.ReadAsync"/>.</summary>
    /// <exception cref="DataCorruptionException">No copy is present and intact.</exception>
    ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands a verified range of a chunk on to <paramref name="destination"/> from the first good copy; see
    /// <see cref="IChunkStore.ReadRangeAsync"/>. The default reads the whole chunk with <see cref="ReadAsync"/>.
    /// </summary>
    /// <param name="chunk">The chunk and its length, as the blob's chunk list records them.</param>
    /// <param name="offset">The first byte of the chunk to hand on.</param>
    /// <param name="count">How many bytes to hand on.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="DataCorruptionException">No copy is present and intact.</exception>
    ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, PipeWriter destination, CancellationToken cancellationToken = default) =>
        ChunkRanges.ReadWholeAsync(chunk, offset, count, destination, (id, buffer, token) => ReadAsync(id, buffer, token), cancellationToken);

    /// <summary>
    /// Reads every copy the placement puts, checks each against the chunk's id (<see cref="ChunkId.Matches"/>), and rewrites
    /// copies that are missing or bad from a good one. Returns how many copies it repaired.
    /// </summary>
    /// <exception cref="DataCorruptionException">No copy of the chunk is present and intact.</exception>
    ValueTask<int> ScrubAsync(ChunkId id, int length, ChunkPlacement placement, CancellationToken cancellationToken = default);

    /// <summary>True when at least one copy of the chunk is stored.</summary>
    ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default);

    /// <summary>Removes every copy of a chunk; returns how many copies were removed (0 when none was stored).</summary>
    ValueTask<int> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default);

    /// <summary>When the newest copy of the chunk was written; null when no copy is stored. See <see cref="IChunkStore.GetLastWriteTimeAsync"/>.</summary>
    ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default);

    /// <summary>Every chunk stored on any node, each once.</summary>
    IAsyncEnumerable<ChunkId> EnumerateAsync(CancellationToken cancellationToken = default);
}
