using System.Buffers;
using System.IO.Pipelines;

namespace BlobStorage.Abstractions;

/// <summary>The range read every chunk source can do: the whole chunk, verified, then the slice asked for.</summary>
internal static class ChunkRanges
{
    /// <summary>Checks a range against its chunk, the same way for every implementation.</summary>
    public static void Validate(ChunkReference chunk, int offset, int count, PipeWriter destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((long)offset + count > chunk.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"The range {offset}+{count} ends past the chunk's {chunk.Length} bytes.");
        }
    }

    /// <summary>Reads the whole chunk into a rented buffer with <paramref name="read"/> and writes the slice.</summary>
    public static async ValueTask ReadWholeAsync(
        ChunkReference chunk,
        int offset,
        int count,
        PipeWriter destination,
        Func<ChunkId, Memory<byte>, CancellationToken, ValueTask<int>> read,
        CancellationToken cancellationToken)
    {
        Validate(chunk, offset, count, destination);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(chunk.Length, 1));
        try
        {
            int length;
            try
            {
                length = await read(chunk.Id, buffer.AsMemory(0, chunk.Length), cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException ex) when (ex.ParamName == "destination")
            {
                // Only the stored chunk being longer than its listed length makes a buffer of that length too short.
                throw new DataCorruptionException($"Chunk {chunk.Id} holds more bytes than the {chunk.Length} the blob's chunk list says.", ex);
            }

            ExpectLength(chunk, length);
            destination.Write(buffer.AsSpan(offset, count));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A chunk must hold the bytes the blob's chunk list says it does.</summary>
    public static void ExpectLength(ChunkReference chunk, long read)
    {
        if (read != chunk.Length)
        {
            throw new DataCorruptionException($"Chunk {chunk.Id} holds {read} bytes where the blob's chunk list says {chunk.Length}.");
        }
    }
}
