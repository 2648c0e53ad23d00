using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Streaming;

/// <summary>
/// How uploads hold chunk buffers: a small blob from a stream that knows its length takes no chunk-sized buffer;
/// concurrent uploads share the buffers beyond each one's first, never hold more of them than the store allows, and
/// give every one back, whether they succeed or fail; a stream whose length is wrong still stores exactly what it gives.
/// </summary>
public sealed class UploadBufferTests
{
    private const string Container = "buffers";
    private const int ChunkSize = 256 * 1024;
    private const int UploadConcurrency = 2;

    private static Task<TestStore> OpenAsync() => TestStore.OpenAsync(o =>
    {
        o.ChunkSize = ChunkSize;
        o.InlineThreshold = 0;
        o.UploadConcurrency = UploadConcurrency;
    });

    private static ChunkBufferPool BuffersOf(TestStore t) => ((BlobStorage.Diagnostics.TracedBlobStore)t.Store).Inner.Buffers;

    [Test]
    public async Task Concurrent_uploads_share_the_extra_chunk_buffers_and_give_them_all_back()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var pool = BuffersOf(t);
        var most = 0;
        var contents = Enumerable.Range(0, 8).Select(i => Streams.Bytes((9 * ChunkSize) + (i * 1000), seed: 20 + i)).ToArray();

        await Task.WhenAll(contents.Select((content, i) => Task.Run(async () =>
        {
            // Every read the store makes notes how many extra buffers all uploads hold at that moment.
            var source = new ObservedStream(content, () => InterlockedMax(ref most, pool.UploadExtrasTaken));
            await t.Store.UploadAsync(Container, $"b{i}", source);
        })));

        most.Should().BeGreaterThan(0, "the uploads did overlap their reads and writes").And.BeLessThanOrEqualTo(UploadConcurrency);
        pool.UploadExtrasTaken.Should().Be(0, "every upload gave back the room it took");
        for (var i = 0; i < contents.Length; i++)
        {
            (await t.Store.DownloadBytesAsync(Container, $"b{i}")).Should().Equal(contents[i]);
        }
    }

    [Test]
    public async Task An_upload_that_fails_gives_back_the_extra_buffers_it_held()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var pool = BuffersOf(t);
        var content = Streams.Bytes(8 * ChunkSize, seed: 30);
        var reads = 0;
        var source = new ObservedStream(content, () =>
        {
            if (++reads == 20) throw new IOException("the source failed");
        });

        var upload = async () => await t.Store.UploadAsync(Container, "broken", source);

        await upload.Should().ThrowAsync<Exception>();
        pool.UploadExtrasTaken.Should().Be(0);
        (await t.Store.ExistsAsync(Container, "broken")).Should().BeFalse();
    }

    [TestCase(10, 5_000)]
    [TestCase(10, (2 * ChunkSize) + (ChunkSize / 2))]
    [TestCase(ChunkSize - 1, ChunkSize + 7)]
    [TestCase(5_000, 10)]
    [TestCase(3 * ChunkSize, ChunkSize - 3)]
    public async Task A_stream_whose_length_is_wrong_stores_exactly_the_bytes_it_gives(int declared, int actual)
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(actual, seed: 40);

        var properties = await t.Store.UploadAsync(Container, "x", new MisreportedLengthStream(content, declared));

        properties.Size.Should().Be(actual);
        (await t.Store.DownloadBytesAsync(Container, "x")).Should().Equal(content);
    }

    [Test]
    public async Task A_small_upload_from_a_stream_that_knows_its_length_takes_no_chunk_buffer()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var pool = BuffersOf(t);
        var chunkBuffer = pool.RentArray(ChunkSize);
        chunkBuffer.AsSpan().Fill(0xAB);
        pool.ReturnArray(chunkBuffer);

        await t.Store.UploadBytesAsync(Container, "small", Streams.Bytes(4096, seed: 50));

        var again = pool.RentArray(ChunkSize);
        again.Should().BeSameAs(chunkBuffer);
        again.Should().OnlyContain(b => b == 0xAB, "the pool's only chunk buffer was not read into: the 4 KiB upload used a 4 KiB array");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>A read-only stream over bytes that calls back before every read, at most 64 KiB a read, and does not say its length.</summary>
    private sealed class ObservedStream(byte[] content, Action beforeRead) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            beforeRead();
            var n = Math.Min(Math.Min(buffer.Length, 64 * 1024), content.Length - _position);
            content.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A seekable stream whose <see cref="Length"/> says <paramref name="declared"/> whatever it holds.</summary>
    private sealed class MisreportedLengthStream(byte[] content, long declared) : MemoryStream(content, writable: false)
    {
        public override long Length => declared;
    }
}
