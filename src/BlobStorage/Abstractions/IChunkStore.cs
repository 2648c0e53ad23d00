using System.IO.Pipelines;

namespace BlobStorage.Abstractions;

/// <summary>
/// A content-addressed store of immutable chunks, named by a hash of their bytes (see <see cref="ChunkId"/>).
/// Implementations keep a fast checksum with every chunk and verify it on every read.
/// </summary>
public interface IChunkStore
{
    /// <summary>True when the chunk is stored.</summary>
    ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a chunk durably: when the call returns, the chunk survives a crash or power loss.
    /// Returns false, writing nothing, when the chunk is already stored.
    /// The caller vouches that <paramref name="id"/> names <paramref name="content"/> (<see cref="ChunkId.Matches"/>).
    /// </summary>
    ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a whole chunk into <paramref name="destination"/> (at least as long as the chunk) and
    /// returns its length. The bytes are verified against the stored checksum before the call returns.
    /// </summary>
    /// <exception cref="DataCorruptionException">The chunk is missing, truncated or fails its checksum.</exception>
    ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> of a chunk on to
    /// <paramref name="destination"/>, verified: no byte that fails its checksum is ever advanced into the writer.
    /// The store may flush as it goes (so a large chunk streams); it does not complete the writer, and stops
    /// early, without an error, when the pipe's reader has completed.
    /// </summary>
    /// <remarks>
    /// The default reads the whole chunk with <see cref="ReadAsync"/> and writes the slice; a store that keeps a
    /// checksum per block overrides it to read only the blocks the range covers, each straight into the writer.
    /// </remarks>
    /// <param name="chunk">The chunk and its length, as the blob's chunk list records them.</param>
    /// <param name="offset">The first byte of the chunk to hand on.</param>
    /// <param name="count">How many bytes to hand on.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="DataCorruptionException">The chunk is missing, truncated, of another length or fails its checksum.</exception>
    ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, PipeWriter destination, CancellationToken cancellationToken = default) =>
        ChunkRanges.ReadWholeAsync(chunk, offset, count, destination, (id, buffer, token) => ReadAsync(id, buffer, token), cancellationToken);

    /// <summary>Removes a chunk; false when it was not stored.</summary>
    ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// When the chunk was last written (a new chunk's write, or a rewrite in repair); null when it is not stored.
    /// The collector deletes a chunk that nothing references only once it is older than the grace period, so that
    /// a chunk written for a commit still in flight (in this process or another) is never taken from under it.
    /// </summary>
    ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default);

    /// <summary>Every stored chunk, in no particular order.</summary>
    IAsyncEnumerable<ChunkId> EnumerateAsync(CancellationToken cancellationToken = default);
}
