using BlobStorage.Abstractions;

namespace BlobStorage.Chunks;

/// <summary>
/// A chunk being written before its name is known (see <see cref="IChunkStreamer"/>): its bytes go to a
/// temporary file as they are appended, and <see cref="CommitAsync"/> names it. Disposing a draft that was
/// not committed removes what it wrote.
/// </summary>
internal abstract class ChunkDraft : IDisposable
{
    /// <summary>The bytes appended so far.</summary>
    public abstract long Length { get; }

    /// <summary>Adds bytes at the chunk's end; <paramref name="content"/> is not needed once the call returns.</summary>
    public abstract void Append(ReadOnlyMemory<byte> content);

    /// <summary>Reads back appended bytes from <paramref name="offset"/>; returns how many were read (fewer only at the end).</summary>
    public abstract int ReadBack(long offset, Span<byte> destination);

    /// <summary>
    /// Names the chunk <paramref name="id"/> (the caller vouches that it names the appended bytes) and starts
    /// making it durable, as <see cref="IChunkStager.StageAsync"/> does: returns a task that ends when the chunk
    /// is durable, or null when the chunk was already stored durably (the draft's bytes are then dropped). The
    /// draft is spent either way; on a failure it has removed its bytes.
    /// </summary>
    public abstract ValueTask<Task?> CommitAsync(ChunkId id, CancellationToken cancellationToken);

    /// <summary>Removes the draft's bytes unless it was committed.</summary>
    public abstract void Dispose();
}
