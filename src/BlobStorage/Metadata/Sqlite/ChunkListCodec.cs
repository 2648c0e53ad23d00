using System.Buffers;
using System.Buffers.Binary;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// A chunk list packed into one column: 36 bytes an entry, the 32-byte id then the length as a
/// little-endian int32. One row a blob instead of one a chunk keeps a commit to one insert.
/// </summary>
internal static class ChunkListCodec
{
    public const int EntrySize = PackedChunkList.EntrySize;

    /// <summary>The packed list, in an array of exactly its size: it is bound as the column's value once per commit.</summary>
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

    /// <summary>Every entry decoded, for callers that go through the whole list (releases, copies, part lists).</summary>
    /// <exception cref="DataCorruptionException">The bytes are not whole entries, or an entry's length is negative.</exception>
    public static ChunkReference[] Decode(ReadOnlySpan<byte> bytes)
    {
        PackedChunkList.Check(bytes);
        if (bytes.IsEmpty) return [];
        var chunks = new ChunkReference[bytes.Length / EntrySize];
        for (var i = 0; i < chunks.Length; i++) chunks[i] = PackedChunkList.Decode(bytes, i);

        return chunks;
    }

    /// <summary>The list kept packed, each entry decoded when asked for: what a blob's read returns, which may need one chunk of many.</summary>
    /// <exception cref="DataCorruptionException">The bytes are not whole entries, or an entry's length is negative.</exception>
    public static IReadOnlyList<ChunkReference> DecodeLazily(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? [] : PackedChunkList.Copy(bytes);

    /// <summary>As <see cref="DecodeLazily(ReadOnlySpan{byte})"/>, keeping <paramref name="bytes"/> itself: an array read for this list alone.</summary>
    /// <exception cref="DataCorruptionException">The bytes are not whole entries, or an entry's length is negative.</exception>
    public static IReadOnlyList<ChunkReference> DecodeLazily(byte[] bytes) => bytes.Length == 0 ? [] : PackedChunkList.Own(bytes);

    /// <summary>Decodes the list in a column (read as one value: <c>GetBytes</c> would go through a slower blob stream).</summary>
    public static ChunkReference[] Read(SqliteDataReader reader, int ordinal) => Decode(reader.GetFieldValue<byte[]>(ordinal));
}
