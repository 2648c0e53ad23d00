using System.IO.Hashing;
using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// The block checksum is XXH3-64 exactly: a stored checksum must not depend on whether the processor that wrote it,
/// or the one that reads it, takes the 512-bit path, the 256-bit one or System.IO.Hashing.
/// </summary>
public sealed class BlockChecksumTests
{
    [Test]
    public void Equals_XxHash3_at_every_length_around_the_stripe_and_block_boundaries()
    {
        var data = new byte[5 * 1024];
        new Random(16).NextBytes(data);
        for (var length = 0; length <= 4200; length++)
        {
            // An odd start, so no load is aligned.
            var slice = data.AsSpan(3, length);
            BlockChecksum.Compute(slice).Should().Be(XxHash3.HashToUInt64(slice), $"the checksum of {length} bytes is XXH3-64");
        }
    }

    [TestCase(64 * 1024)]
    [TestCase((64 * 1024) - 1)]
    [TestCase((64 * 1024) + 1)]
    [TestCase(256 * 1024)]
    [TestCase((1024 * 1024) + 17)]
    public void Equals_XxHash3_on_whole_blocks(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        BlockChecksum.Compute(data).Should().Be(XxHash3.HashToUInt64(data));
    }

    [Test]
    public void The_512_bit_path_equals_XxHash3_where_the_processor_has_it()
    {
        if (!BlockChecksum.IsVectorized) Assert.Ignore("This processor has no AVX-512: every length goes to System.IO.Hashing.");
        var data = new byte[70_000];
        new Random(7).NextBytes(data);
        foreach (var length in new[] { 241, 255, 256, 1023, 1024, 1025, 1088, 2048, 65_536, 70_000 })
        {
            BlockChecksum.HashLong(data.AsSpan(0, length)).Should().Be(XxHash3.HashToUInt64(data.AsSpan(0, length)), $"{length} bytes");
        }
    }

    [Test]
    public void The_256_bit_path_equals_XxHash3_at_every_length_where_the_processor_has_AVX2()
    {
        if (!BlockChecksum.IsVectorized256) Assert.Ignore("This processor has no AVX2.");
        var data = new byte[5 * 1024];
        new Random(17).NextBytes(data);
        for (var length = 241; length <= 4200; length++)
        {
            var slice = data.AsSpan(3, length);
            BlockChecksum.HashLong256(slice).Should().Be(XxHash3.HashToUInt64(slice), $"the checksum of {length} bytes is XXH3-64");
        }

        var large = new byte[(1024 * 1024) + 17];
        new Random(18).NextBytes(large);
        foreach (var length in new[] { 65_535, 65_536, 65_537, 256 * 1024, large.Length })
        {
            BlockChecksum.HashLong256(large.AsSpan(0, length)).Should().Be(XxHash3.HashToUInt64(large.AsSpan(0, length)), $"{length} bytes");
        }
    }

    [Test]
    public void Copy_and_compute_on_the_256_bit_path_copies_every_byte_and_equals_XxHash3()
    {
        if (!BlockChecksum.IsVectorized256) Assert.Ignore("This processor has no AVX2.");
        var data = new byte[70_000];
        new Random(29).NextBytes(data);
        var destination = new byte[data.Length + 64];
        foreach (var length in new[] { 241, 255, 256, 1023, 1024, 1025, 1088, 4099, 65_536, 69_990 })
        {
            Array.Fill(destination, (byte)0xA5);
            var source = data.AsSpan(5, length);
            BlockChecksum.CopyAndCompute256(source, destination.AsSpan(1)).Should().Be(XxHash3.HashToUInt64(source), $"the checksum of {length} bytes is XXH3-64");
            destination.AsSpan(1, length).SequenceEqual(source).Should().BeTrue($"all {length} bytes are copied");
            destination[0].Should().Be(0xA5, "nothing is written before the destination");
            destination.AsSpan(1 + length).ToArray().Should().OnlyContain(b => b == 0xA5, $"nothing is written past {length} bytes");
        }
    }

    [Test]
    public void Copy_and_compute_copies_every_byte_and_equals_XxHash3_at_every_length()
    {
        var data = new byte[5 * 1024];
        new Random(23).NextBytes(data);
        var destination = new byte[data.Length + 64];
        for (var length = 0; length <= 4200; length++)
        {
            Array.Fill(destination, (byte)0xA5);
            var source = data.AsSpan(5, length);
            BlockChecksum.CopyAndCompute(source, destination.AsSpan(1)).Should().Be(XxHash3.HashToUInt64(source), $"the checksum of {length} bytes is XXH3-64");
            destination.AsSpan(1, length).SequenceEqual(source).Should().BeTrue($"all {length} bytes are copied");
            destination[0].Should().Be(0xA5, "nothing is written before the destination");
            destination.AsSpan(1 + length).ToArray().Should().OnlyContain(b => b == 0xA5, $"nothing is written past {length} bytes");
        }
    }

    [Test]
    public void Copy_and_compute_refuses_a_destination_shorter_than_the_source()
    {
        var act = () => BlockChecksum.CopyAndCompute(new byte[300], new byte[299]);
        act.Should().Throw<ArgumentException>().WithMessage("*shorter than the source*");
    }

    [Test]
    public void A_changed_bit_changes_the_checksum()
    {
        var data = new byte[64 * 1024];
        new Random(3).NextBytes(data);
        var before = BlockChecksum.Compute(data);
        data[40_000] ^= 0x10;
        BlockChecksum.Compute(data).Should().NotBe(before);
    }
}
