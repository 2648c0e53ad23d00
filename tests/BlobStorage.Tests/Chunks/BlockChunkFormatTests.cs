using System.Buffers;
using System.IO.Pipelines;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// The <c>BSCHUNK2</c> chunk file: a checksum per block, ranges that read only their blocks, no failed block ever
/// handed on, and <c>BSCHUNK1</c> files of older stores still read.
/// </summary>
public sealed class BlockChunkFormatTests
{
    private const int Block = BlockChunkFormat.DefaultBlockSize;

    private TempFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempFolder("blockformat");

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private string Chunks => Path.Combine(_folder.Path, "chunks");

    private static (ChunkId Id, byte[] Content) Chunk(int length, int seed = 1)
    {
        var content = Streams.Bytes(length, seed);
        return (ChunkId.Compute(content), content);
    }

    private static async Task<(byte[] Received, Exception? Error)> ReadRangeAsync(IChunkStore store, ChunkReference chunk, int offset, int count)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        Exception? error = null;
        try
        {
            await store.ReadRangeAsync(chunk, offset, count, pipe.Writer);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        // Whatever was advanced, flushed or not, is what a reader could have seen.
        await pipe.Writer.FlushAsync();
        await pipe.Writer.CompleteAsync();
        var result = await pipe.Reader.ReadAtLeastAsync(int.MaxValue);
        var bytes = result.Buffer.ToArray();
        pipe.Reader.AdvanceTo(result.Buffer.End);
        await pipe.Reader.CompleteAsync();
        return (bytes, error);
    }

    private static void FlipBit(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x01));
    }

    [Test]
    public async Task Chunks_written_in_the_first_format_stay_readable_whole_and_by_range()
    {
        var (id, content) = Chunk((3 * Block) + 123, seed: 5);
        using (var old = new FileSystemChunkStore(Chunks, PhysicalChunkFileSystem.Instance, blockSize: 0))
        {
            await old.WriteAsync(id, content);
        }

        using var store = new FileSystemChunkStore(Chunks);
        (await File.ReadAllBytesAsync(store.GetPath(id))).AsSpan(0, 8).ToArray().Should().Equal("BSCHUNK1"u8.ToArray());
        var whole = new byte[content.Length];
        (await store.ReadAsync(id, whole)).Should().Be(content.Length);
        whole.Should().Equal(content);
        var (range, error) = await ReadRangeAsync(store, new ChunkReference(id, content.Length), Block + 10, Block);
        error.Should().BeNull();
        range.Should().Equal(content.AsSpan(Block + 10, Block).ToArray());
    }

    [Test]
    public async Task A_flipped_bit_in_one_block_fails_only_the_ranges_that_cover_it_and_nothing_of_that_block_is_handed_on()
    {
        var (id, content) = Chunk(5 * Block, seed: 7);
        using var store = new FileSystemChunkStore(Chunks);
        await store.WriteAsync(id, content);
        var chunk = new ChunkReference(id, content.Length);
        FlipBit(store.GetPath(id), BlockChunkFormat.ContentStart(5) + (2 * Block) + 100);

        var (before, beforeError) = await ReadRangeAsync(store, chunk, 0, 2 * Block);
        var (after, afterError) = await ReadRangeAsync(store, chunk, 3 * Block, 2 * Block);
        var (across, acrossError) = await ReadRangeAsync(store, chunk, 100, 4 * Block);
        var (inside, insideError) = await ReadRangeAsync(store, chunk, (2 * Block) + 5, 1);

        beforeError.Should().BeNull();
        before.Should().Equal(content.AsSpan(0, 2 * Block).ToArray());
        afterError.Should().BeNull();
        after.Should().Equal(content.AsSpan(3 * Block, 2 * Block).ToArray());
        acrossError.Should().BeOfType<DataCorruptionException>().Which.Message.Should().Contain(id.ToString()).And.Contain("block 2");
        across.Length.Should().BeLessThanOrEqualTo((2 * Block) - 100, "no byte of the failed block or after it is handed on");
        across.Should().Equal(content.AsSpan(100, across.Length).ToArray(), "what was handed on before the failure was verified");
        insideError.Should().BeOfType<DataCorruptionException>();
        inside.Should().BeEmpty();
    }

    [Test]
    public async Task A_whole_read_of_a_chunk_with_a_bad_last_block_throws_and_leaves_no_bytes_in_the_destination()
    {
        var (id, content) = Chunk((2 * Block) + 10, seed: 9);
        using var store = new FileSystemChunkStore(Chunks);
        await store.WriteAsync(id, content);
        FlipBit(store.GetPath(id), BlockChunkFormat.ContentStart(3) + (2 * Block) + 3);
        var destination = new byte[content.Length];

        var read = async () => await store.ReadAsync(id, destination);

        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain("checksum");
        destination.Should().OnlyContain(b => b == 0);
    }

    [TestCase(20, TestName = "{m}(header check)")]
    [TestCase(32 + 8 + 2, TestName = "{m}(block table)")]
    [TestCase(17, TestName = "{m}(block size)")]
    public async Task A_damaged_header_or_table_throws_DataCorruptionException_before_any_byte_is_handed_on(int offset)
    {
        var (id, content) = Chunk(3 * Block, seed: 11);
        using var store = new FileSystemChunkStore(Chunks);
        await store.WriteAsync(id, content);
        FlipBit(store.GetPath(id), offset);

        var (received, error) = await ReadRangeAsync(store, new ChunkReference(id, content.Length), 0, content.Length);

        error.Should().BeOfType<DataCorruptionException>().Which.Message.Should().Contain(id.ToString());
        received.Should().BeEmpty();
    }

    [Test]
    public async Task A_one_byte_range_of_a_large_chunk_reads_one_block_and_the_header()
    {
        var files = new ReadCountingFileSystem();
        var (id, content) = Chunk(4 * 1024 * 1024, seed: 13);
        using var store = new FileSystemChunkStore(Chunks, files);
        await store.WriteAsync(id, content);
        files.BytesRead = 0;

        var (received, error) = await ReadRangeAsync(store, new ChunkReference(id, content.Length), 3_000_000, 1);

        error.Should().BeNull();
        received.Should().Equal(content[3_000_000]);
        files.BytesRead.Should().BeLessThanOrEqualTo(Block + 8192, "a range reads the header and table (one 4 KiB read) and the one block it covers");
    }

    /// <summary>The real disk, counting the bytes read from files.</summary>
    private sealed class ReadCountingFileSystem : ChunkFileSystem
    {
        private readonly PhysicalChunkFileSystem _inner = PhysicalChunkFileSystem.Instance;
        private long _bytesRead;

        public long BytesRead
        {
            get => Interlocked.Read(ref _bytesRead);
            set => Interlocked.Exchange(ref _bytesRead, value);
        }

        public override void CreateDirectory(string path) => _inner.CreateDirectory(path);

        public override bool DirectoryExists(string path) => _inner.DirectoryExists(path);

        public override bool FileExists(string path) => _inner.FileExists(path);

        public override WritableFile CreateNew(string path, long preallocate) => _inner.CreateNew(path, preallocate);

        public override ReadableFile OpenRead(string path) => new Counting(this, _inner.OpenRead(path));

        public override void Move(string source, string destination, bool overwrite = true) => _inner.Move(source, destination, overwrite);

        public override void FlushDirectory(string path) => _inner.FlushDirectory(path);

        public override void DeleteFile(string path) => _inner.DeleteFile(path);

        public override IEnumerable<string> EnumerateFiles(string directory) => _inner.EnumerateFiles(directory);

        public override DateTimeOffset? GetLastWriteTime(string path) => _inner.GetLastWriteTime(path);

        private sealed class Counting(ReadCountingFileSystem owner, ReadableFile inner) : ReadableFile
        {
            public override long Length => inner.Length;

            public override int Read(Span<byte> destination, long offset)
            {
                var n = inner.Read(destination, offset);
                Interlocked.Add(ref owner._bytesRead, n);
                return n;
            }

            public override void Dispose() => inner.Dispose();
        }
    }
}
