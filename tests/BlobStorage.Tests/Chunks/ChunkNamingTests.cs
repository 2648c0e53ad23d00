using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Facade;
using BlobStorage.Tests.Support;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// How chunks are named (see <see cref="ChunkId"/>): a blob smaller than a chunk by its SHA-256, the chunks of a larger
/// blob by BLAKE3; and chunks of either name are read, scrubbed and shared alike.
/// </summary>
public sealed class ChunkNamingTests
{
    private const string Container = "names";
    private const int Chunk = TestStore.ChunkSize;

    // BLAKE3's published test vector for "abc".
    private const string Blake3OfAbc = "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85";

    private static Task<TestStore> OpenAsync() => TestStore.OpenAsync(o =>
    {
        o.InlineThreshold = 0;
        o.MultipartMinimumPartSize = 1000;
    });

    [Test]
    public void The_BLAKE3_name_is_the_standard_hash()
    {
        ChunkId.ComputeBlake3("abc"u8).ToString().Should().Be(Blake3OfAbc);
        ChunkId.Compute("abc"u8).ToString().Should().Be(Convert.ToHexStringLower(SHA256.HashData("abc"u8)));
    }

    [Test]
    public void An_id_matches_its_content_by_either_hash_and_nothing_else()
    {
        var content = Streams.Bytes(10_000, seed: 1);
        var changed = (byte[])content.Clone();
        changed[5000] ^= 1;

        ChunkId.Compute(content).Matches(content).Should().BeTrue("a SHA-256 name, as every chunk of an older store has");
        ChunkId.ComputeBlake3(content).Matches(content).Should().BeTrue("a BLAKE3 name, as the chunks of large blobs have");
        ChunkId.Compute(content).Matches(changed).Should().BeFalse();
        ChunkId.ComputeBlake3(content).Matches(changed).Should().BeFalse();
        ChunkId.Compute(changed).Matches(content).Should().BeFalse();
        default(ChunkId).Matches(content).Should().BeFalse();
    }

    [Test]
    public async Task A_blob_smaller_than_a_chunk_is_named_by_its_SHA_256_and_the_chunks_of_a_larger_one_by_BLAKE3()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var small = Streams.Bytes(Chunk / 2, seed: 2);
        var large = Streams.Bytes((2 * Chunk) + (Chunk / 2), seed: 3);
        var exact = Streams.Bytes(Chunk, seed: 4);
        var smallBlob = await t.Store.UploadBytesAsync(Container, "small", small);
        await t.Store.UploadBytesAsync(Container, "large", large);
        await t.Store.UploadBytesAsync(Container, "exact", exact);

        File.Exists(FacadeTestKit.ChunkPath(t.RootPath, smallBlob.ContentHash)).Should().BeTrue("the chunk of a blob smaller than a chunk is its content hash");
        var largeChunks = large.Chunk(Chunk).ToList();
        largeChunks.Select(c => ChunkId.ComputeBlake3(c)).Should().Equal(ChunkNames.Of(large, Chunk).Select(c => c.Id));
        foreach (var chunk in largeChunks)
        {
            var id = ChunkId.ComputeBlake3(chunk);
            File.Exists(FacadeTestKit.ChunkPath(t.RootPath, id.ToString())).Should().BeTrue($"chunk {id} of the large blob is named by its BLAKE3 hash");
            File.Exists(FacadeTestKit.ChunkPath(t.RootPath, ChunkId.Compute(chunk).ToString())).Should().BeFalse();
        }

        File.Exists(FacadeTestKit.ChunkPath(t.RootPath, ChunkId.ComputeBlake3(exact).ToString())).Should().BeTrue("a blob of exactly one chunk's size is read as a chunk that may have more behind it");

        (await t.Store.DownloadBytesAsync(Container, "small")).Should().Equal(small);
        (await t.Store.DownloadBytesAsync(Container, "large")).Should().Equal(large);
        (await t.Store.DownloadBytesAsync(Container, "exact")).Should().Equal(exact);
        var scrub = await t.Store.ScrubAsync();
        scrub.IsClean.Should().BeTrue();
        scrub.ChunksChecked.Should().Be(5);
    }

    [Test]
    public async Task Content_uploaded_again_is_stored_once_under_either_name()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var large = Streams.Bytes(3 * Chunk, seed: 5);
        var small = Streams.Bytes(Chunk / 3, seed: 6);
        await t.Store.UploadBytesAsync(Container, "a", large);
        await t.Store.UploadBytesAsync(Container, "s1", small);
        var files = ChunkFiles(t.RootPath);

        await t.Store.UploadBytesAsync(Container, "b", large);
        await t.Store.UploadBytesAsync(Container, "s2", small);

        ChunkFiles(t.RootPath).Should().BeEquivalentTo(files, "the same bytes get the same names, and a stored chunk is not written again");
        files.Should().HaveCount(4);
    }

    [Test]
    public async Task A_blob_whose_chunks_have_SHA_256_names_reads_and_scrubs_clean_and_a_damaged_one_is_found()
    {
        // A multipart blob whose parts are each smaller than a chunk keeps each part's SHA-256 name: a blob of several
        // chunks named as every chunk of a store written before BLAKE3 names was.
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var parts = new[] { Streams.Bytes(Chunk / 2, seed: 7), Streams.Bytes(Chunk / 4, seed: 8) };
        var upload = await t.Store.StartMultipartUploadAsync(Container, "old");
        var p1 = await t.Store.UploadPartAsync(upload, 1, new MemoryStream(parts[0]));
        var p2 = await t.Store.UploadPartAsync(upload, 2, new MemoryStream(parts[1]));
        await t.Store.CompleteMultipartUploadAsync(upload, [new(1, p1.ETag), new(2, p2.ETag)]);
        var paths = parts.Select(p => FacadeTestKit.ChunkPath(t.RootPath, ChunkId.Compute(p).ToString())).ToList();
        paths.Should().OnlyContain(p => File.Exists(p));

        (await t.Store.DownloadBytesAsync(Container, "old")).Should().Equal([.. parts[0], .. parts[1]]);
        (await t.Store.ScrubAsync()).IsClean.Should().BeTrue();

        // The last byte of the second part's chunk file is its content's last byte.
        await using (var file = new FileStream(paths[1], FileMode.Open, FileAccess.ReadWrite))
        {
            file.Seek(-1, SeekOrigin.End);
            var last = file.ReadByte();
            file.Seek(-1, SeekOrigin.End);
            file.WriteByte((byte)(last ^ 0x40));
        }

        var damaged = await t.Store.ScrubAsync();
        damaged.CorruptCopies.Should().Be(1);
        damaged.Unrecoverable.Should().Equal(ChunkId.Compute(parts[1]));
    }

    private static List<string> ChunkFiles(string root) =>
        [.. Directory.EnumerateFiles(Path.Combine(root, "chunks"), "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f).Length == 64)];
}
