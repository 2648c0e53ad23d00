using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Streaming;

/// <summary>
/// Reads of a download stream with a buffer of 256 KiB or more take their bytes straight from the chunk files into the
/// caller's buffer, verified there; smaller ones go through the read-ahead. Both give exactly the blob's bytes, in any
/// mix, and a block that fails its check is never returned.
/// </summary>
public class DirectReadTests
{
    private const string Container = "direct";
    private const int ChunkSize = 1024 * 1024;

    private static Task<TestStore> OpenAsync() => TestStore.OpenAsync(o =>
    {
        o.ChunkSize = ChunkSize;
        o.InlineThreshold = 0;
    });

    private static async Task<byte[]> ReadAllAsync(Stream stream, params int[] bufferSizes)
    {
        var result = new MemoryStream();
        for (var i = 0; ; i++)
        {
            var buffer = new byte[bufferSizes[i % bufferSizes.Length]];
            var read = await stream.ReadAsync(buffer);
            if (read == 0) return result.ToArray();
            result.Write(buffer, 0, read);
        }
    }

    [TestCase(256 * 1024)]
    [TestCase(1024 * 1024)]
    [TestCase(3 * 1024 * 1024)]
    [TestCase(300_000, 100, 1024 * 1024, 70_000)]
    public async Task Large_reads_return_exactly_the_blobs_bytes_across_chunks(params int[] bufferSizes)
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes((3 * ChunkSize) + 12_345, seed: 3);
        await t.Store.UploadBytesAsync(Container, "x", content);

        await using (var download = await t.Store.DownloadAsync(Container, "x"))
        {
            (await ReadAllAsync(download.Content, bufferSizes)).Should().Equal(content);
        }

        var range = new BlobRange(ChunkSize - 5000, (2 * ChunkSize) + 7);
        await using (var download = await t.Store.DownloadAsync(Container, "x", new BlobDownloadOptions { Range = range }))
        {
            (await ReadAllAsync(download.Content, bufferSizes)).Should().Equal(content.AsSpan((int)range.Offset, (int)range.Length!.Value).ToArray());
        }
    }

    [Test]
    public async Task A_large_read_of_a_damaged_block_throws_and_leaves_none_of_its_bytes_in_the_buffer()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(2 * ChunkSize, seed: 4);
        await t.Store.UploadBytesAsync(Container, "x", content);
        var id = ChunkNames.Of(content, ChunkSize)[1].Id.ToString();
        var path = Facade.FacadeTestKit.ChunkPath(t.RootPath, id);

        // A byte of the second chunk's third 64 KiB block changed behind the store's back (its content ends the file).
        FlipContentByte(path, (2 * 65536) + 100, 0x01);

        await using var download = await t.Store.DownloadAsync(Container, "x");
        var buffer = new byte[ChunkSize];
        (await download.Content.ReadAsync(buffer)).Should().Be(ChunkSize);
        buffer.Should().Equal(content.AsSpan(0, ChunkSize).ToArray());

        Array.Fill(buffer, (byte)0xAA);
        var read = async () => await download.Content.ReadAsync(buffer);

        await read.Should().ThrowAsync<DataCorruptionException>();
        buffer.AsSpan(2 * 65536, 65536).ToArray().Should().OnlyContain(b => b == 0, "the block read into the caller's buffer failed its check and was cleared");
        var again = async () => await download.Content.ReadAsync(buffer);
        await again.Should().ThrowAsync<ObjectDisposedException>("where the failed read stopped is unknown, so the stream closes");
    }

    // One chunk is always copied on the caller's task through a pipe writer; four may be read two at a time.
    [TestCase(ChunkSize - 123)]
    [TestCase((3 * ChunkSize) + 777)]
    public async Task A_copy_to_a_stream_gives_it_every_byte_and_leaves_flushing_to_its_owner(int length)
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(length, seed: 5);
        await t.Store.UploadBytesAsync(Container, "x", content);

        var destination = new FlushCountingStream();
        await using (var download = await t.Store.DownloadAsync(Container, "x"))
        {
            await download.Content.CopyToAsync(destination);
        }

        destination.ToArray().Should().Equal(content);
        destination.Flushes.Should().Be(0, "a copy, like Stream.CopyToAsync, writes and never flushes its destination");
    }

    [Test]
    public async Task A_copy_of_a_range_that_cuts_its_first_and_last_chunks_gives_exactly_that_range()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes((5 * ChunkSize) + 4321, seed: 6);
        await t.Store.UploadBytesAsync(Container, "x", content);

        foreach (var range in new[] { new BlobRange(ChunkSize - 3, (3 * ChunkSize) + 10), new BlobRange(12_345, (4 * ChunkSize) + 1), new BlobRange(2 * ChunkSize, 2 * ChunkSize) })
        {
            var destination = new MemoryStream();
            await using (var download = await t.Store.DownloadAsync(Container, "x", new BlobDownloadOptions { Range = range }))
            {
                await download.Content.CopyToAsync(destination);
            }

            destination.ToArray().Should().Equal(content.AsSpan((int)range.Offset, (int)range.Length!.Value).ToArray(), $"the range at {range.Offset} of {range.Length} bytes");
        }
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    public async Task A_copy_stops_at_a_damaged_block_and_the_destination_gets_no_byte_of_it_or_after_it(int damagedChunk)
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(4 * ChunkSize, seed: 7);
        await t.Store.UploadBytesAsync(Container, "x", content);
        var id = ChunkNames.Of(content, ChunkSize)[damagedChunk].Id.ToString();
        var path = Facade.FacadeTestKit.ChunkPath(t.RootPath, id);
        FlipContentByte(path, (5 * 65536) + 7, 0x10);

        var destination = new MemoryStream();
        await using var download = await t.Store.DownloadAsync(Container, "x");
        var copy = async () => await download.Content.CopyToAsync(destination);

        await copy.Should().ThrowAsync<DataCorruptionException>();

        // Blocks before the damaged one passed their checks: a copy on one thread hands them on in batches as it goes (a
        // parallel copy, in pieces), so how much of the chunk arrives depends on which path the copy took.
        var damagedBlockStart = (damagedChunk * ChunkSize) + (5 * 65536);
        destination.Length.Should().BeLessThanOrEqualTo(damagedBlockStart, "no byte of the damaged block, nor of any after it, reaches the destination");
        destination.ToArray().Should().Equal(content.AsSpan(0, (int)destination.Length).ToArray());
    }

    // Chunks of 4 MiB (the default) are copied in pieces of 1 MiB: ranges that start and end inside pieces and chunks.
    [TestCase(0, -1)]
    [TestCase((1024 * 1024) + 5, 5 * 1024 * 1024)]
    [TestCase((3 * 1024 * 1024) - 1, (2 * 1024 * 1024) + 2)]
    [TestCase((4 * 1024 * 1024) + 65_537, (4 * 1024 * 1024) + 3)]
    public async Task A_copy_of_large_chunks_read_in_pieces_gives_exactly_the_range(int offset, int length)
    {
        await using var t = await TestStore.OpenAsync(o =>
        {
            o.ChunkSize = 4 * 1024 * 1024;
            o.InlineThreshold = 0;
        });
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes((9 * 1024 * 1024) + 4321, seed: 8);
        await t.Store.UploadBytesAsync(Container, "x", content);
        var range = length < 0 ? new BlobRange(offset) : new BlobRange(offset, length);

        var destination = new MemoryStream();
        await using (var download = await t.Store.DownloadAsync(Container, "x", new BlobDownloadOptions { Range = range }))
        {
            await download.Content.CopyToAsync(destination);
        }

        var expected = length < 0 ? content.AsSpan(offset) : content.AsSpan(offset, length);
        destination.ToArray().Should().Equal(expected.ToArray());
    }

    [Test]
    public async Task A_copy_of_large_chunks_stops_before_a_damaged_block_in_a_later_piece_of_a_chunk()
    {
        const int LargeChunk = 4 * 1024 * 1024;
        await using var t = await TestStore.OpenAsync(o =>
        {
            o.ChunkSize = LargeChunk;
            o.InlineThreshold = 0;
        });
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(3 * LargeChunk, seed: 9);
        await t.Store.UploadBytesAsync(Container, "x", content);
        var path = Facade.FacadeTestKit.ChunkPath(t.RootPath, ChunkNames.Of(content, LargeChunk)[1].Id.ToString());

        // A byte of the second chunk's third piece (its 2 MiB + 70,000th byte) changed behind the store's back.
        const int Damaged = (2 * 1024 * 1024) + 70_000;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length - LargeChunk + Damaged;
            var b = file.ReadByte();
            file.Position = file.Length - LargeChunk + Damaged;
            file.WriteByte((byte)(b ^ 0x20));
        }

        var destination = new MemoryStream();
        await using var download = await t.Store.DownloadAsync(Container, "x");
        var copy = async () => await download.Content.CopyToAsync(destination);

        await copy.Should().ThrowAsync<DataCorruptionException>();
        destination.Length.Should().BeLessThanOrEqualTo(LargeChunk + Damaged - (Damaged % 65536), "the damaged block, and nothing after it, never reaches the destination");
        destination.ToArray().Should().Equal(content.AsSpan(0, (int)destination.Length).ToArray());
    }

    // Fourteen pieces of 1 MiB: the helper reads the odd ones ahead into two buffers and waits for the copy to write them.
    [Test]
    public async Task A_copy_to_a_destination_that_yields_on_every_write_gets_every_piece_in_order()
    {
        await using var t = await OpenLargeChunksAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes((13 * 1024 * 1024) + 4321, seed: 10);
        await t.Store.UploadBytesAsync(Container, "x", content);

        for (var round = 0; round < 3; round++)
        {
            var destination = new YieldingStream(failAtWrite: -1);
            await using (var download = await t.Store.DownloadAsync(Container, "x"))
            {
                await download.Content.CopyToAsync(destination);
            }

            destination.ToArray().Should().Equal(content, $"copy {round} (later copies reuse the pieces' buffers)");
        }
    }

    [TestCase(1)]
    [TestCase(4)]
    public async Task A_copy_whose_destination_fails_throws_that_failure_and_the_next_copy_is_whole(int failAtWrite)
    {
        await using var t = await OpenLargeChunksAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(12 * 1024 * 1024, seed: 11);
        await t.Store.UploadBytesAsync(Container, "x", content);

        var failing = new YieldingStream(failAtWrite);
        await using (var download = await t.Store.DownloadAsync(Container, "x"))
        {
            var copy = async () => await download.Content.CopyToAsync(failing);
            await copy.Should().ThrowAsync<IOException>().WithMessage(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"*write {failAtWrite}*"));
        }

        failing.ToArray().Should().Equal(content.AsSpan(0, (int)failing.Length).ToArray());

        // A piece still being read when the copy failed must not land in a buffer the next copy uses.
        var destination = new YieldingStream(failAtWrite: -1);
        await using (var download = await t.Store.DownloadAsync(Container, "x"))
        {
            await download.Content.CopyToAsync(destination);
        }

        destination.ToArray().Should().Equal(content);
    }

    private static Task<TestStore> OpenLargeChunksAsync() => TestStore.OpenAsync(o =>
    {
        o.ChunkSize = 4 * 1024 * 1024;
        o.InlineThreshold = 0;
    });

    /// <summary>Changes one byte of a chunk file's content (which ends the file) behind the store's back.</summary>
    private static void FlipContentByte(string path, long contentOffset, byte mask)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var offset = file.Length - ChunkSize + contentOffset;
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ mask));
    }

    /// <summary>A destination whose every write completes later, on the thread pool; write <c>failAtWrite</c> (from 0) throws.</summary>
    private sealed class YieldingStream(int failAtWrite) : MemoryStream
    {
        private int _writes;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            if (_writes++ == failAtWrite) throw new IOException($"The destination failed at write {failAtWrite}.");
            await base.WriteAsync(buffer, cancellationToken);
        }
    }

    private sealed class FlushCountingStream : MemoryStream
    {
        public int Flushes { get; private set; }

        public override void Flush()
        {
            Flushes++;
            base.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return base.FlushAsync(cancellationToken);
        }
    }
}
