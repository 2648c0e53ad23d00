using System.Buffers.Binary;
using System.IO.Hashing;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Contracts;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// The chunk store contract on a temporary folder, and what is particular to files on disk, for each chunk file
/// format the store writes: <c>BSCHUNK1</c> (block size 0, as stores before the block format wrote) and <c>BSCHUNK2</c>.
/// </summary>
[TestFixture(0)]
[TestFixture(BlockChunkFormat.DefaultBlockSize)]
public sealed class FileSystemChunkStoreTests(int blockSize) : ChunkStoreContractTests
{
    // The store lives one level down, so a test can see that nothing is written beside it.
    private string _parent = null!;
    private string _folder = null!;

    private FileSystemChunkStore FileStore => (FileSystemChunkStore)Store;

    protected override IChunkStore CreateStore()
    {
        _parent = Path.Combine(Path.GetTempPath(), "blobstorage-chunks-" + Guid.NewGuid().ToString("N"));
        _folder = Path.Combine(_parent, "chunks");
        return new FileSystemChunkStore(_folder, PhysicalChunkFileSystem.Instance, blockSize);
    }

    protected override void CleanUp()
    {
        if (Directory.Exists(_parent)) Directory.Delete(_parent, recursive: true);
    }

    [Test]
    public void Opening_creates_the_folder_and_all_256_shards()
    {
        Directory.Exists(_folder).Should().BeTrue();
        var shards = Directory.EnumerateDirectories(_folder).Select(Path.GetFileName).Where(n => n != FileSystemChunkStore.TempFolderName);
        shards.Should().BeEquivalentTo(Enumerable.Range(0, 256).Select(i => i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        FileStore.DirectoryPath.Should().Be(Path.GetFullPath(_folder));
    }

    [Test]
    public async Task A_chunk_is_stored_in_the_shard_of_its_first_byte_under_its_hex_id()
    {
        var (id, content) = Chunk(10);
        await Store.WriteAsync(id, content);

        var hex = id.ToString();
        FileStore.GetPath(id).Should().Be(Path.Combine(FileStore.DirectoryPath, hex[..2], hex));
        File.Exists(FileStore.GetPath(id)).Should().BeTrue();
    }

    [Test]
    public async Task The_file_is_the_documented_header_followed_by_the_content()
    {
        var (id, content) = Chunk(5000);
        await Store.WriteAsync(id, content);

        var file = await File.ReadAllBytesAsync(FileStore.GetPath(id));
        if (blockSize > 0)
        {
            // BSCHUNK2: magic, length, block size, header check, id prefix, an XxHash3 per block, the content.
            var blocks = (content.Length + blockSize - 1) / blockSize;
            file.Should().HaveCount(32 + (8 * blocks) + content.Length);
            file.AsSpan(0, 8).ToArray().Should().Equal("BSCHUNK2"u8.ToArray());
            BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8)).Should().Be(content.Length);
            BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16)).Should().Be(blockSize);
            file.AsSpan(24, 8).ToArray().Should().Equal(id.ToArray().AsSpan(0, 8).ToArray());
            BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(32)).Should().Be(XxHash3.HashToUInt64(content));
            file.AsSpan(32 + (8 * blocks)).ToArray().Should().Equal(content);
            return;
        }

        file.Should().HaveCount(32 + content.Length);
        file.AsSpan(0, 8).ToArray().Should().Equal("BSCHUNK1"u8.ToArray());
        BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8)).Should().Be(content.Length);
        BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(16)).Should().Be(XxHash3.HashToUInt64(content));
        file.AsSpan(24, 8).ToArray().Should().Equal(id.ToArray().AsSpan(0, 8).ToArray(), "the header names its chunk by the first 8 bytes of its id");
        file.AsSpan(32).ToArray().Should().Equal(content);
    }

    [Test]
    public async Task Writes_and_deletes_leave_nothing_outside_the_folder_and_nothing_in_it_but_chunks_and_the_lock()
    {
        var chunks = Enumerable.Range(1, 20).Select(i => Chunk(i * 100, seed: i)).ToList();
        foreach (var (id, content) in chunks) await Store.WriteAsync(id, content);
        await Store.DeleteAsync(chunks[3].Id);
        await Store.ReadAsync(chunks[5].Id, new byte[chunks[5].Content.Length]);

        Directory.EnumerateFileSystemEntries(_parent).Select(Path.GetFileName).Should().Equal("chunks");
        var files = Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_folder, f));
        var expected = chunks.Where((_, i) => i != 3).Select(c => Path.Combine(c.Id.ToString()[..2], c.Id.ToString())).Append(".lock");
        files.Should().BeEquivalentTo(expected);
    }

    [Test]
    public async Task A_flipped_bit_in_the_content_throws_DataCorruptionException_and_returns_no_bytes()
    {
        var (id, content) = Chunk(4096);
        await Store.WriteAsync(id, content);
        FlipBit(FileStore.GetPath(id), ContentStart(4096) + 1000);

        var destination = new byte[4096];
        var read = async () => await Store.ReadAsync(id, destination);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(id.ToString()).And.Contain("checksum");
        destination.Should().OnlyContain(b => b == 0, "unverified bytes must not reach the caller");
    }

    [TestCase(0, TestName = "{m}(magic)")]
    [TestCase(9, TestName = "{m}(length)")]
    [TestCase(17, TestName = "{m}(checksum)")]
    public async Task A_flipped_bit_in_the_header_throws_DataCorruptionException(int offset)
    {
        var (id, content) = Chunk(100);
        await Store.WriteAsync(id, content);
        FlipBit(FileStore.GetPath(id), offset);

        var read = async () => await Store.ReadAsync(id, new byte[1000]);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(id.ToString());
    }

    [TestCase(0)]
    [TestCase(20)]
    [TestCase(32)]
    [TestCase(32 + 999)]
    public async Task A_truncated_file_throws_DataCorruptionException(int length)
    {
        var (id, content) = Chunk(1000);
        await Store.WriteAsync(id, content);
        using (var file = new FileStream(FileStore.GetPath(id), FileMode.Open))
        {
            file.SetLength(length);
        }

        var read = async () => await Store.ReadAsync(id, new byte[1000]);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(id.ToString()).And.Contain("truncated");
    }

    [Test]
    public async Task A_file_with_bytes_appended_throws_DataCorruptionException()
    {
        var (id, content) = Chunk(1000);
        await Store.WriteAsync(id, content);
        await File.AppendAllTextAsync(FileStore.GetPath(id), "x");

        var read = async () => await Store.ReadAsync(id, new byte[2000]);

        await read.Should().ThrowAsync<DataCorruptionException>();
    }

    [Test]
    public async Task A_missing_chunk_is_reported_with_its_id()
    {
        var (id, _) = Chunk(10);

        var read = async () => await Store.ReadAsync(id, new byte[10]);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(id.ToString()).And.Contain("missing");
    }

    [Test]
    public async Task Leftover_temporary_files_are_removed_when_a_store_opens_the_folder()
    {
        var (id, content) = Chunk(100);
        await Store.WriteAsync(id, content);
        FileStore.Dispose();
        var temp = Path.Combine(_folder, FileSystemChunkStore.TempFolderName);
        await File.WriteAllTextAsync(Path.Combine(temp, "0123456789abcdef"), "half a chunk");
        await File.WriteAllTextAsync(Path.Combine(temp, "another"), "more");

        using var reopened = new FileSystemChunkStore(_folder);

        Directory.EnumerateFileSystemEntries(temp).Should().BeEmpty();
        var destination = new byte[100];
        (await reopened.ReadAsync(id, destination)).Should().Be(100);
        destination.Should().Equal(content);
    }

    [Test]
    public void A_second_store_on_the_folder_is_refused_until_the_first_is_disposed()
    {
        var open = () => new FileSystemChunkStore(_folder);

        var refused = open.Should().Throw<BlobStorageException>().Which;
        refused.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        refused.Message.Should().Contain(FileStore.DirectoryPath);

        FileStore.Dispose();
        FileStore.Dispose();
        using var second = open();
        second.DirectoryPath.Should().Be(FileStore.DirectoryPath);
    }

    [Test]
    public async Task A_disposed_store_refuses_every_call()
    {
        var (id, content) = Chunk(10);
        FileStore.Dispose();

        await FluentActions.Awaiting(async () => await Store.WriteAsync(id, content)).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await Store.ReadAsync(id, new byte[10])).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await Store.ExistsAsync(id)).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await Store.DeleteAsync(id)).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await EnumerateAllAsync(Store)).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Test]
    public async Task Enumerate_skips_files_the_store_did_not_write()
    {
        var (id, content) = Chunk(10);
        await Store.WriteAsync(id, content);
        var (other, _) = Chunk(20, seed: 2);
        var hex = id.ToString();
        var otherHex = other.ToString();
        var wrongShard = otherHex[..2] == "00" ? "01" : "00";
        await File.WriteAllTextAsync(Path.Combine(_folder, hex[..2], "notes.txt"), "x");
        await File.WriteAllTextAsync(Path.Combine(_folder, hex[..2], hex.ToUpperInvariant()), "x");
        await File.WriteAllTextAsync(Path.Combine(_folder, wrongShard, otherHex), "x");
        await File.WriteAllTextAsync(Path.Combine(_folder, FileSystemChunkStore.TempFolderName, otherHex), "x");
        await File.WriteAllTextAsync(Path.Combine(_folder, otherHex), "x");

        (await EnumerateAllAsync(Store)).Should().Equal(id);
    }

    [Test]
    public async Task A_failed_write_leaves_no_temporary_file_and_stores_nothing()
    {
        var (id, content) = Chunk(100);
        // A folder where the chunk's file belongs makes the rename into place fail.
        Directory.CreateDirectory(FileStore.GetPath(id));

        var write = async () => await Store.WriteAsync(id, content);

        (await write.Should().ThrowAsync<BlobStorageException>()).Where(ex => ex.InnerException is IOException || ex.InnerException is UnauthorizedAccessException);
        Directory.EnumerateFileSystemEntries(Path.Combine(_folder, FileSystemChunkStore.TempFolderName)).Should().BeEmpty();
        (await EnumerateAllAsync(Store)).Should().BeEmpty();
    }

    [Test]
    public async Task An_existing_file_is_not_rewritten()
    {
        var (id, content) = Chunk(100);
        await Store.WriteAsync(id, content);
        var path = FileStore.GetPath(id);
        var written = File.GetLastWriteTimeUtc(path);
        File.SetLastWriteTimeUtc(path, written.AddHours(-1));

        (await Store.WriteAsync(id, content)).Should().BeFalse();

        File.GetLastWriteTimeUtc(path).Should().Be(written.AddHours(-1));
    }

    [Test]
    public void Flushing_a_folder_succeeds_and_flushing_a_missing_one_reports_the_error()
    {
        DirectoryFlush.Flush(_folder);

        if (OperatingSystem.IsWindows()) Assert.Ignore("Windows has no directory flush; it does nothing there.");
        var flush = () => DirectoryFlush.Flush(Path.Combine(_folder, "missing"));
        flush.Should().Throw<IOException>().Which.Message.Should().Contain("errno");
    }

    // Range reads keep BSCHUNK2 files open between reads: none of these may let a kept handle serve what the folder no longer holds.
    [Test]
    public async Task A_range_read_after_the_store_deletes_the_chunk_reports_it_missing()
    {
        var (id, content) = Chunk(200_000);
        await Store.WriteAsync(id, content);
        var chunk = new ChunkReference(id, content.Length);
        (await ReadRangeAsync(Store, chunk, 70_000, 1)).Should().Equal(content[70_000]);

        (await Store.DeleteAsync(id)).Should().BeTrue();
        var read = async () => await ReadRangeAsync(Store, chunk, 70_000, 1);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(id.ToString()).And.Contain("missing");
    }

    [Test]
    public async Task A_range_read_after_the_file_is_deleted_by_hand_reports_it_missing()
    {
        var (id, content) = Chunk(200_000);
        await Store.WriteAsync(id, content);
        var chunk = new ChunkReference(id, content.Length);
        (await ReadRangeAsync(Store, chunk, 5, 10)).Should().Equal(content[5..15]);

        File.Delete(FileStore.GetPath(id));
        var read = async () => await ReadRangeAsync(Store, chunk, 5, 10);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain("missing");
    }

    [Test]
    public async Task A_range_read_after_the_file_is_replaced_reads_the_new_file()
    {
        var (id, content) = Chunk(200_000);
        await Store.WriteAsync(id, content);
        var chunk = new ChunkReference(id, content.Length);
        var path = FileStore.GetPath(id);
        (await ReadRangeAsync(Store, chunk, 150_000, 3)).Should().Equal(content[150_000..150_003]);

        // A damaged copy renamed over the file: the kept handle still reads the intact old one, which must not be served.
        var copy = path + ".copy";
        File.Copy(path, copy);
        FlipBit(copy, ContentStart(content.Length) + 150_001);
        File.Move(copy, path, overwrite: true);
        var read = async () => await ReadRangeAsync(Store, chunk, 150_000, 3);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain("checksum");
    }

    [Test]
    public async Task A_range_read_after_a_bit_flips_in_place_fails_and_the_next_read_fails_too()
    {
        var (id, content) = Chunk(200_000);
        await Store.WriteAsync(id, content);
        var chunk = new ChunkReference(id, content.Length);
        (await ReadRangeAsync(Store, chunk, 0, 100)).Should().Equal(content[..100]);

        FlipBit(FileStore.GetPath(id), ContentStart(content.Length) + 99_999);
        var read = async () => await ReadRangeAsync(Store, chunk, 99_000, 10);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain("checksum");
        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain("checksum");
        if (blockSize > 0) (await ReadRangeAsync(Store, chunk, 0, 100)).Should().Equal(content[..100], "the blocks that were not touched still verify");
    }

    [Test]
    public async Task Range_reads_of_more_chunks_than_are_kept_open_all_return_their_bytes()
    {
        var chunks = Enumerable.Range(0, 300).Select(i => Chunk(5000, seed: i + 10)).ToArray();
        foreach (var (id, content) in chunks) await Store.WriteAsync(id, content);

        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var (id, content) in chunks)
            {
                (await ReadRangeAsync(Store, new ChunkReference(id, content.Length), 4000, 2)).Should().Equal(content[4000..4002]);
            }
        }
    }

    /// <summary>Where the content of a chunk of <paramref name="length"/> bytes starts in its file, in this fixture's format.</summary>
    private int ContentStart(int length) => blockSize == 0 ? 32 : (int)BlockChunkFormat.ContentStart(BlockChunkFormat.BlockCount(length, blockSize));

    private static void FlipBit(string path, int offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x10));
    }
}
