using System.Buffers.Binary;
using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Facade;
using BlobStorage.Tests.Support;
using BlobStorage.Tiers;

namespace BlobStorage.Tests.Tiers;

/// <summary>Chunks of the archive classes compressed at rest: identical bytes back, raw when incompressible, corruption caught.</summary>
public sealed class CompressionTests
{
    private const int Chunk = TestStore.ChunkSize;

    [Test]
    public async Task An_archive_blob_of_text_is_stored_compressed_and_reads_back_identical_whole_and_in_ranges()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("docs");
        var content = TierContent.Text((3 * Chunk) + 12345);
        await store.UploadAsync("docs", "book.txt", new MemoryStream(content), new BlobUploadOptions { StorageClass = StorageClass.Archive });

        (await store.ReadAllAsync("docs", "book.txt")).Should().Equal(content);
        foreach (var (offset, length) in new[] { (0L, 10L), (Chunk - 5L, 10L), (Chunk - 1L, Chunk + 2L), (2L * Chunk, Chunk + 12345L), (100L, (3L * Chunk) + 12245) })
        {
            (await store.ReadAllAsync("docs", "book.txt", new BlobRange(offset, length))).Should().Equal(content.AsSpan((int)offset, (int)length).ToArray(), $"range {offset}+{length}");
        }

        var files = FacadeTestKit.ChunkFiles(test.RootPath);
        files.Should().HaveCount(4);
        files.Select(TierContent.MagicOf).Should().AllBe("BSCHUNKZ");
        files.Sum(f => new FileInfo(f).Length).Should().BeLessThan(content.Length / 2, "English-like text compresses to well under half");
    }

    [Test]
    public async Task Random_bytes_in_an_archive_blob_stay_raw()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("docs");
        var content = TierContent.Random(2 * Chunk);
        await test.Store.UploadAsync("docs", "noise.bin", new MemoryStream(content), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });

        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().Equal("BSCHUNK2", "BSCHUNK2");
    }

    [Test]
    public async Task Standard_blobs_are_stored_raw_and_an_archive_class_can_be_set_to_raw_in_the_options()
    {
        await using var test = await TestStore.OpenAsync(o => o.StorageClasses[StorageClass.Archive].Compression = ChunkCompression.None);
        await test.Store.CreateContainerAsync("docs");
        await test.Store.UploadAsync("docs", "a.txt", new MemoryStream(TierContent.Text(Chunk, seed: 1)));
        await test.Store.UploadAsync("docs", "b.txt", new MemoryStream(TierContent.Text(Chunk, seed: 2)), new BlobUploadOptions { StorageClass = StorageClass.Archive });
        await test.Store.UploadAsync("docs", "c.txt", new MemoryStream(TierContent.Text(Chunk, seed: 3)), new BlobUploadOptions { StorageClass = StorageClass.ColdArchive });

        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().BeEquivalentTo(["BSCHUNK2", "BSCHUNK2", "BSCHUNKZ"]);
    }

    [Test]
    public async Task A_chunk_is_stored_once_across_classes_and_serves_blobs_of_every_class()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("docs");
        var content = TierContent.Text(2 * Chunk);
        await store.UploadAsync("docs", "archived.txt", new MemoryStream(content), new BlobUploadOptions { StorageClass = StorageClass.Archive });
        await store.UploadAsync("docs", "hot.txt", new MemoryStream(content));

        FacadeTestKit.ChunkFiles(test.RootPath).Should().HaveCount(2);
        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().AllBe("BSCHUNKZ", "a chunk keeps the form it was first written in");
        (await store.ReadAllAsync("docs", "hot.txt")).Should().Equal(content);
        (await store.ReadAllAsync("docs", "archived.txt")).Should().Equal(content);
        var report = await store.VerifyAsync(verifyContent: true);
        report.MissingChunks.Should().BeEmpty();
        report.ReferenceCountMismatches.Should().BeEmpty();
    }

    [Test]
    public async Task A_flipped_byte_in_a_compressed_chunk_is_a_DataCorruptionException_and_never_wrong_bytes()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("docs");
        var content = TierContent.Text(Chunk);
        await store.UploadAsync("docs", "book.txt", new MemoryStream(content), new BlobUploadOptions { StorageClass = StorageClass.Archive });
        var file = FacadeTestKit.ChunkFiles(test.RootPath).Single();
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[FileSystemChunkStore.CompressedHeaderSize + (bytes.Length / 3)] ^= 0x10;
        await File.WriteAllBytesAsync(file, bytes);

        var download = await store.DownloadAsync("docs", "book.txt");
        var (read, error) = await FacadeTestKit.ReadUntilFailureAsync(download.Content);
        error.Should().BeOfType<DataCorruptionException>();
        read.Should().BeEmpty();
        (await store.VerifyAsync(verifyContent: true)).MissingChunks.Should().ContainSingle();
    }

    [TestCase(16, "raw length")]
    [TestCase(40, "codec")]
    [TestCase(8, "stored length")]
    public async Task A_damaged_compressed_header_is_a_DataCorruptionException(int offset, string field)
    {
        using var folder = new TempFolder("z");
        using var store = new FileSystemChunkStore(folder.Path);
        var content = TierContent.Text(10_000);
        var id = ChunkId.Compute(content);
        await ((ITieredChunkStore)store).WriteAsync(id, content, StorageClass.Archive, CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(store.GetPath(id));
        TierContent.MagicOf(store.GetPath(id)).Should().Be("BSCHUNKZ");
        if (offset == 40) bytes[offset] = 9;
        else BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset)) - 1);
        await File.WriteAllBytesAsync(store.GetPath(id), bytes);

        var destination = new byte[content.Length];
        var read = async () => await store.ReadAsync(id, destination);
        await read.Should().ThrowAsync<DataCorruptionException>(field);
        destination.Should().OnlyContain(b => b == 0, "no unverified byte is left in the caller's buffer");
    }

    [Test]
    public async Task A_compressed_stream_whose_checksum_was_recomputed_but_that_does_not_decompress_is_a_DataCorruptionException()
    {
        using var folder = new TempFolder("z");
        using var store = new FileSystemChunkStore(folder.Path);
        var content = TierContent.Text(10_000);
        var id = ChunkId.Compute(content);
        await ((ITieredChunkStore)store).WriteAsync(id, content, StorageClass.Archive, CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(store.GetPath(id));
        var stored = bytes.AsSpan(FileSystemChunkStore.CompressedHeaderSize);
        for (var i = 0; i < stored.Length; i += 7) stored[i] ^= 0xA5;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), System.IO.Hashing.XxHash3.HashToUInt64(stored));
        await File.WriteAllBytesAsync(store.GetPath(id), bytes);

        var destination = new byte[content.Length];
        var read = async () => await store.ReadAsync(id, destination);
        await read.Should().ThrowAsync<DataCorruptionException>();
        destination.Should().OnlyContain(b => b == 0);
    }

    [Test]
    public async Task Chunks_of_the_original_format_still_read_next_to_compressed_ones()
    {
        using var folder = new TempFolder("z");
        using var store = new FileSystemChunkStore(folder.Path, PhysicalChunkFileSystem.Instance, blockSize: 0);
        var old = TierContent.Text(20_000, seed: 5);
        var oldId = ChunkId.Compute(old);
        await store.WriteAsync(oldId, old);
        var compressed = TierContent.Text(20_000, seed: 6);
        var compressedId = ChunkId.Compute(compressed);
        await ((ITieredChunkStore)store).WriteAsync(compressedId, compressed, StorageClass.ColdArchive, CancellationToken.None);

        TierContent.MagicOf(store.GetPath(oldId)).Should().Be("BSCHUNK1");
        TierContent.MagicOf(store.GetPath(compressedId)).Should().Be("BSCHUNKZ");
        var buffer = new byte[20_000];
        (await store.ReadAsync(oldId, buffer)).Should().Be(old.Length);
        buffer.Should().Equal(old);
        (await store.ReadAsync(compressedId, buffer)).Should().Be(compressed.Length);
        buffer.Should().Equal(compressed);
    }

    [Test]
    public async Task Rewriting_a_chunk_changes_its_form_in_place_and_keeps_its_bytes()
    {
        using var folder = new TempFolder("z");
        using var store = new FileSystemChunkStore(folder.Path);
        var tiered = (ITieredChunkStore)store;
        var content = TierContent.Text(30_000);
        var id = ChunkId.Compute(content);
        await store.WriteAsync(id, content);

        (await tiered.RewriteAsync(id, content, StorageClass.Archive, CancellationToken.None)).Should().BeTrue();
        TierContent.MagicOf(store.GetPath(id)).Should().Be("BSCHUNKZ");
        (await tiered.RewriteAsync(id, content, StorageClass.ColdArchive, CancellationToken.None)).Should().BeFalse("it is compressed already");
        (await tiered.RewriteAsync(id, content, StorageClass.Standard, CancellationToken.None)).Should().BeTrue();
        TierContent.MagicOf(store.GetPath(id)).Should().Be("BSCHUNK2");
        var buffer = new byte[content.Length];
        await store.ReadAsync(id, buffer);
        buffer.Should().Equal(content);
    }
}
