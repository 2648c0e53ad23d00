using BlobStorage.Abstractions;

namespace BlobStorage.Chunks;

/// <summary>
/// A chunk store that can take a chunk's bytes now and make them durable a little later, so an
/// upload need not wait for each chunk's flush before it hashes and writes the next one.
/// </summary>
internal interface IChunkStager
{
    /// <summary>
    /// Writes the chunk's bytes and returns once <paramref name="content"/> is no longer needed, with
    /// a task that ends when the chunk is durable (and faults if it could not be made so); or null
    /// when the chunk is already stored durably and nothing was written. A commit that refers to the
    /// chunk must await the task first.
    /// </summary>
    ValueTask<Task?> StageAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);
}
