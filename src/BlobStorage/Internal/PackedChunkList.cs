using System.Buffers.Binary;
using System.Collections;
using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// A chunk list kept as the packed entries it was stored as (36 bytes each: the 32-byte id, then the length as a
/// little-endian int32), each entry decoded only when it is asked for. A range of a 1 GiB blob needs one chunk of
/// its 256: the lengths it walks to find it are read in place, and only that chunk's id is made.
/// </summary>
/// <remarks>The entries are checked when the list is made (whole entries, no negative length), so every later read is sound.</remarks>
internal sealed class PackedChunkList : IReadOnlyList<ChunkReference>
{
    /// <summary>The size of one packed entry.</summary>
    public const int EntrySize = ChunkId.Size + sizeof(int);

    private readonly byte[] _entries;

    private PackedChunkList(byte[] entries, long totalLength)
    {
        _entries = entries;
        TotalLength = totalLength;
    }

    /// <inheritdoc />
    public int Count => _entries.Length / EntrySize;

    /// <summary>The sum of the chunks' lengths.</summary>
    public long TotalLength { get; }

    /// <inheritdoc />
    public ChunkReference this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return Decode(_entries, index);
        }
    }

    /// <summary>A copy of <paramref name="entries"/> as a list, checked.</summary>
    /// <exception cref="DataCorruptionException">The bytes are not whole entries, or an entry's length is negative.</exception>
    public static PackedChunkList Copy(ReadOnlySpan<byte> entries)
    {
        var total = Check(entries);
        var copy = GC.AllocateUninitializedArray<byte>(entries.Length);
        entries.CopyTo(copy);
        return new PackedChunkList(copy, total);
    }

    /// <summary><paramref name="entries"/> as a list, checked and not copied: the caller gives the array up.</summary>
    /// <exception cref="DataCorruptionException">The bytes are not whole entries, or an entry's length is negative.</exception>
    public static PackedChunkList Own(byte[] entries) => new(entries, Check(entries));

    /// <summary>Entry <paramref name="index"/> of packed entries, decoded (the caller has checked them).</summary>
    public static ChunkReference Decode(ReadOnlySpan<byte> entries, int index) =>
        new(new ChunkId(entries.Slice(index * EntrySize, ChunkId.Size)), LengthOf(entries, index));

    /// <summary>Checks packed entries and returns the sum of their lengths.</summary>
    /// <exception cref="DataCorruptionException">The bytes are not whole entries, or an entry's length is negative.</exception>
    public static long Check(ReadOnlySpan<byte> entries)
    {
        if (entries.Length % EntrySize != 0)
        {
            throw new DataCorruptionException($"A stored chunk list of {entries.Length} bytes is not a whole number of {EntrySize}-byte entries.");
        }

        long total = 0;
        for (var i = 0; i < entries.Length / EntrySize; i++)
        {
            var length = LengthOf(entries, i);
            if (length < 0)
            {
                throw new DataCorruptionException($"Entry {i} of a stored chunk list has the negative length {length}.");
            }

            total += length;
        }

        return total;
    }

    /// <summary>The length of chunk <paramref name="index"/> of any list: read in place from a packed one, without making its id.</summary>
    public static int LengthAt(IReadOnlyList<ChunkReference> chunks, int index)
    {
        if (chunks is not PackedChunkList packed) return chunks[index].Length;
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, packed.Count);
        return LengthOf(packed._entries, index);
    }

    /// <summary>The sum of the lengths of any list's chunks.</summary>
    public static long TotalOf(IReadOnlyList<ChunkReference> chunks)
    {
        if (chunks is PackedChunkList packed) return packed.TotalLength;
        long total = 0;
        foreach (var chunk in chunks) total += chunk.Length;
        return total;
    }

    /// <summary>
    /// The first chunk of any list that holds bytes at or after <paramref name="offset"/> (the list's count when none does),
    /// and where it starts in the blob; found by the lengths alone.
    /// </summary>
    public static int IndexOf(IReadOnlyList<ChunkReference> chunks, long offset, out long chunkStart)
    {
        chunkStart = 0;
        if (chunks is PackedChunkList packed)
        {
            for (var i = 0; i < packed.Count; i++)
            {
                var length = LengthOf(packed._entries, i);
                if (chunkStart + length > offset) return i;
                chunkStart += length;
            }

            return packed.Count;
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            var length = chunks[i].Length;
            if (chunkStart + length > offset) return i;
            chunkStart += length;
        }

        return chunks.Count;
    }

    /// <inheritdoc />
    public IEnumerator<ChunkReference> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    /// <inheritdoc />
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int LengthOf(ReadOnlySpan<byte> entries, int index) =>
        BinaryPrimitives.ReadInt32LittleEndian(entries.Slice((index * EntrySize) + ChunkId.Size, sizeof(int)));
}
