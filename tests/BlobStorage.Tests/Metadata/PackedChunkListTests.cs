using System.Buffers.Binary;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Metadata.Sqlite;

namespace BlobStorage.Tests.Metadata;

/// <summary>
/// A blob's chunk list as a read returns it, kept packed: every entry reads as the decoded list's, the lengths a range
/// walks are read in place, and damaged bytes are refused when the list is made, never handed on.
/// </summary>
public class PackedChunkListTests
{
    private static ChunkReference[] Chunks(params int[] lengths) =>
        lengths.Select((length, i) => new ChunkReference(ChunkId.Compute(BitConverter.GetBytes(i)), length)).ToArray();

    private static IReadOnlyList<ChunkReference> Packed(ChunkReference[] chunks) => ChunkListCodec.DecodeLazily(ChunkListCodec.Encode(chunks));

    [Test]
    public void Every_entry_reads_as_the_decoded_list()
    {
        var chunks = Chunks(4 << 20, 4 << 20, 0, 17, 4 << 20);
        var packed = Packed(chunks);
        packed.Should().BeOfType<PackedChunkList>();
        packed.Count.Should().Be(5);
        packed.Should().Equal(chunks);
        Enumerable.Range(0, 5).Select(i => packed[i]).Should().Equal(ChunkListCodec.Decode(ChunkListCodec.Encode(chunks)));
        PackedChunkList.TotalOf(packed).Should().Be((3L * (4 << 20)) + 17);
        Enumerable.Range(0, 5).Select(i => PackedChunkList.LengthAt(packed, i)).Should().Equal(chunks.Select(c => c.Length));
    }

    [Test]
    public void An_empty_list_is_empty()
    {
        var packed = Packed([]);
        packed.Should().BeEmpty();
        PackedChunkList.TotalOf(packed).Should().Be(0);
        PackedChunkList.IndexOf(packed, 0, out var start).Should().Be(0);
        start.Should().Be(0);
    }

    [TestCase(0L, 0, 0L)]
    [TestCase(99L, 0, 0L)]
    [TestCase(100L, 1, 100L)]
    [TestCase(149L, 1, 100L)]
    [TestCase(150L, 3, 150L, Description = "the empty chunk at 150 holds no byte: the one after it does")]
    [TestCase(159L, 3, 150L)]
    [TestCase(160L, 4, 160L, Description = "past the end: the count")]
    public void IndexOf_finds_the_chunk_that_holds_an_offset_in_either_kind_of_list(long offset, int index, long start)
    {
        var chunks = Chunks(100, 50, 0, 10);
        foreach (var list in new[] { (IReadOnlyList<ChunkReference>)chunks, Packed(chunks) })
        {
            PackedChunkList.IndexOf(list, offset, out var chunkStart).Should().Be(index);
            chunkStart.Should().Be(start);
        }
    }

    [Test]
    public void An_index_outside_the_list_is_refused()
    {
        var packed = Packed(Chunks(10, 20));
        var below = () => packed[-1];
        var above = () => packed[2];
        below.Should().Throw<ArgumentOutOfRangeException>();
        above.Should().Throw<ArgumentOutOfRangeException>();
        var length = () => PackedChunkList.LengthAt(packed, 2);
        length.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Test]
    public void Bytes_that_are_not_whole_entries_are_corruption()
    {
        var bytes = ChunkListCodec.Encode(Chunks(10, 20));
        var lazily = () => ChunkListCodec.DecodeLazily(bytes.AsSpan(0, bytes.Length - 1));
        var eagerly = () => ChunkListCodec.Decode(bytes.AsSpan(0, bytes.Length - 1));
        lazily.Should().Throw<DataCorruptionException>().WithMessage("*71 bytes is not a whole number of 36-byte entries*");
        eagerly.Should().Throw<DataCorruptionException>().WithMessage("*71 bytes is not a whole number of 36-byte entries*");
    }

    [Test]
    public void A_negative_length_is_corruption()
    {
        var bytes = ChunkListCodec.Encode(Chunks(10, 20, 30));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan((2 * PackedChunkList.EntrySize) + ChunkId.Size), -5);
        var lazily = () => ChunkListCodec.DecodeLazily(bytes);
        var eagerly = () => ChunkListCodec.Decode(bytes);
        lazily.Should().Throw<DataCorruptionException>().WithMessage("Entry 2 of a stored chunk list has the negative length -5.");
        eagerly.Should().Throw<DataCorruptionException>().WithMessage("Entry 2 of a stored chunk list has the negative length -5.");
    }

    [Test]
    public void The_list_made_from_a_span_is_a_copy_of_its_bytes()
    {
        var chunks = Chunks(10, 20);
        var bytes = ChunkListCodec.Encode(chunks);
        var packed = ChunkListCodec.DecodeLazily(bytes.AsSpan());
        Array.Clear(bytes);
        packed.Should().Equal(chunks);
    }
}
