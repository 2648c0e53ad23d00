using System.Buffers.Binary;
using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// A blob's chunk list packed into one column: 36 bytes an entry (the 32-byte id, then the length as
/// a little-endian int32). One row a blob instead of one a chunk keeps a commit to one insert.
/// </summary>
internal static class ChunkListCodec
{
    public const int EntrySize = ChunkId.Size + 4;

    public static byte[] Encode(IReadOnlyList<ChunkReference> chunks)
    {
        var bytes = new byte[chunks.Count * EntrySize];
        var span = bytes.AsSpan();
        for (var i = 0; i < chunks.Count; i++)
        {
            var entry = span.Slice(i * EntrySize, EntrySize);
            chunks[i].Id.WriteTo(entry);
            BinaryPrimitives.WriteInt32LittleEndian(entry[ChunkId.Size..], chunks[i].Length);
        }

        return bytes;
    }

    public static ChunkReference[] Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % EntrySize != 0)
        {
            throw new BlobStorageException(BlobErrorCode.DataCorruption, $"A chunk list of {bytes.Length} bytes is not a whole number of {EntrySize}-byte entries.");
        }

        var chunks = new ChunkReference[bytes.Length / EntrySize];
        for (var i = 0; i < chunks.Length; i++)
        {
            var entry = bytes.Slice(i * EntrySize, EntrySize);
            chunks[i] = new ChunkReference(new ChunkId(entry[..ChunkId.Size]), BinaryPrimitives.ReadInt32LittleEndian(entry[ChunkId.Size..]));
        }

        return chunks;
    }
}
