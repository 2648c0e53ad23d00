using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// The store's own BLAKE3 gives the Blake3 package's values exactly, whole or in pieces: chunks named before it, by the
/// package, keep their names, and a chunk's name must not depend on how the upload's stream handed its bytes over, nor on
/// the vectors the processor that named it had: each fixture runs one width (512: AVX-512, 256: AVX2, 0: the package).
/// </summary>
[TestFixture(512)]
[TestFixture(256)]
[TestFixture(0)]
public sealed class Blake3HasherTests(int vectorBits)
{
    private const int Chunk = 1024;
    private const int Batch = 16 * Chunk;

    // The official test vector for empty input.
    private const string Blake3OfNothing = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

    private static readonly int[] Lengths =
    [
        0, 1, 63, 64, 65, 1023, Chunk, Chunk + 1, 2 * Chunk, (2 * Chunk) + 1, (15 * Chunk) + 1023,
        Batch - 1, Batch, Batch + 1, Batch + Chunk, (2 * Batch) - 1, 2 * Batch, (2 * Batch) + 1, 3 * Batch, 4 * Batch,
        (4 * Batch) + 5, 5 * Batch, 8 * Batch, 16 * Batch, (16 * Batch) + 1, (17 * Batch) + Chunk, 100_000, 32 * Batch,
        (33 * Batch) + 5, 1024 * 1024, (1024 * 1024) + Batch,
        (4 * 1024 * 1024) + 7,
    ];

    [SetUp]
    public void SkipWidthsThisProcessorLacks()
    {
        if (vectorBits == 512 && !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Assert.Ignore("This processor has no AVX-512.");
        if (vectorBits == 256 && !System.Runtime.Intrinsics.X86.Avx2.IsSupported) Assert.Ignore("This processor has no AVX2.");
    }

    [Test]
    public void The_hash_of_nothing_is_the_published_one()
    {
        Convert.ToHexStringLower(Hash(ReadOnlySpan<byte>.Empty)).Should().Be(Blake3OfNothing);
    }

    [TestCaseSource(nameof(Lengths))]
    public void Whole_content_hashes_as_the_package_does(int length)
    {
        var content = Content(length, seed: length);
        Hash(content).Should().Equal(Reference(content), $"BLAKE3 of {length} bytes");
    }

    [Test]
    public void Every_length_up_to_three_batches_hashes_as_the_package_does()
    {
        var content = Content((3 * Batch) + 64, seed: 7);
        for (var length = 0; length <= content.Length; length += length < 2 * Chunk ? 1 : 61)
        {
            var slice = content.AsSpan(0, length);
            Hash(slice).Should().Equal(Reference(slice), $"BLAKE3 of {length} bytes");
        }
    }

    [TestCaseSource(nameof(Lengths))]
    public void Content_in_pieces_hashes_as_it_does_whole(int length)
    {
        var content = Content(length, seed: length + 1);
        var expected = Reference(content);
        var random = new Random(length);
        for (var round = 0; round < 8; round++)
        {
            using var hasher = new Blake3Hasher(vectorBits);
            for (var offset = 0; offset < length;)
            {
                // Small, odd, whole-batch and large pieces, so batches (16 chunks) and runs of 16 batches start on chunks the
                // stack has and has not merged.
                var piece = random.Next(5) switch
                {
                    0 => random.Next(1, 100),
                    1 => random.Next(1, 5 * Chunk),
                    2 => Batch * random.Next(1, 4),
                    3 => random.Next(1, 5 * Batch),
                    _ => random.Next(1, 40 * Batch),
                };
                piece = Math.Min(piece, length - offset);
                hasher.Update(content.AsSpan(offset, piece));
                offset += piece;
            }

            var hash = new byte[Blake3Hasher.HashSize];
            hasher.Finalize(hash);
            hash.Should().Equal(expected, $"BLAKE3 of {length} bytes handed over in pieces (round {round})");
        }
    }

    [Test]
    public void Empty_pieces_change_nothing()
    {
        var content = Content((2 * Batch) + 3, seed: 9);
        using var hasher = new Blake3Hasher(vectorBits);
        hasher.Update([]);
        hasher.Update(content.AsSpan(0, Batch));
        hasher.Update([]);
        hasher.Update(content.AsSpan(Batch));
        hasher.Update([]);
        var hash = new byte[Blake3Hasher.HashSize];
        hasher.Finalize(hash);
        hash.Should().Equal(Reference(content));
    }

    [Test]
    public void A_chunk_id_is_the_package_hash()
    {
        var content = Content((4 * Batch) + 100, seed: 11);
        ChunkId.ComputeBlake3(content).ToString().Should().Be(Convert.ToHexStringLower(Reference(content)));
    }

    private static byte[] Content(int length, int seed)
    {
        var content = new byte[length];
        new Random(seed).NextBytes(content);
        return content;
    }

    private byte[] Hash(ReadOnlySpan<byte> content)
    {
        using var hasher = new Blake3Hasher(vectorBits);
        hasher.Update(content);
        var hash = new byte[Blake3Hasher.HashSize];
        hasher.Finalize(hash);
        return hash;
    }

    private static byte[] Reference(ReadOnlySpan<byte> content)
    {
        var hash = new byte[Blake3Hasher.HashSize];
        Blake3.Hasher.Hash(content, hash);
        return hash;
    }
}
