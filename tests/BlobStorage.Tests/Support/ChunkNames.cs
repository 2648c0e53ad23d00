using BlobStorage.Abstractions;

namespace BlobStorage.Tests.Support;

/// <summary>
/// The chunk ids an upload gives content, as <see cref="ChunkId"/> describes them: content shorter than a chunk is one
/// chunk named by its SHA-256 (the blob's content hash); longer content is cut into chunks each named by its BLAKE3 hash.
/// </summary>
internal static class ChunkNames
{
    /// <summary>Each chunk of <paramref name="content"/> uploaded whole with chunks of <paramref name="chunkSize"/> bytes: its id and length.</summary>
    public static List<(ChunkId Id, int Length)> Of(ReadOnlySpan<byte> content, int chunkSize)
    {
        if (content.Length < chunkSize) return [(ChunkId.Compute(content), content.Length)];
        var chunks = new List<(ChunkId Id, int Length)>();
        for (var offset = 0; offset < content.Length; offset += chunkSize)
        {
            var length = Math.Min(chunkSize, content.Length - offset);
            chunks.Add((ChunkId.ComputeBlake3(content.Slice(offset, length)), length));
        }

        return chunks;
    }
}
