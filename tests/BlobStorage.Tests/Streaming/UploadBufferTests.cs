using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Internal;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Streaming;

/// <summary>
/// How uploads hold chunk buffers. On the default store (one folder) an upload streams each chunk to a draft file a
/// slice at a time and takes no chunk buffer at all, and leaves no temporary file whether it succeeds, fails or finds
/// its chunks stored already. Where chunks are written from memory (here: two nodes, where a chunk's node is known only
/// once it is named): a small blob from a stream that knows its length takes no chunk-sized buffer; concurrent uploads
/// share the buffers beyond each one's first, never hold more of them than the store allows, and give every one back,
/// whether they succeed or fail. Either way a stream whose length is wrong still stores exactly what it gives.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
public sealed class UploadBufferTests(bool fromMemory)
{
    private const string Container = "buffers";
    private const int ChunkSize = 256 * 1024;
    private const int UploadConcurrency = 2;

    private Task<TestStore> OpenAsync(int chunkSize = ChunkSize) => TestStore.OpenAsync(o =>
    {
        o.ChunkSize = chunkSize;
        o.InlineThreshold = 0;
        o.UploadConcurrency = UploadConcurrency;
        if (fromMemory)
        {
            o.Topology.LocalRegion = "home";
            foreach (var node in new[] { "n1", "n2" }) o.Topology.AddNode("home", node, Path.Combine(o.RootPath, node));
        }
    });

    private static ChunkBufferPool BuffersOf(TestStore t) => ((BlobStorage.Diagnostics.TracedBlobStore)t.Store).Inner.Buffers;

    /// <summary>The temporary folders of the store's chunk folders.</summary>
    private string[] TemporaryFiles(TestStore t) =>
        [.. (fromMemory ? new[] { "n1", "n2" } : ["chunks"]).SelectMany(folder => Directory.GetFiles(Path.Combine(t.RootPath, folder, FileSystemChunkStore.TempFolderName)))];

    [Test]
    public async Task Concurrent_uploads_share_the_extra_chunk_buffers_and_give_them_all_back()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var pool = BuffersOf(t);
        var most = 0;
        var mostSlices = 0;
        var marked = MarkedChunkBuffer(pool);
        var contents = Enumerable.Range(0, 8).Select(i => Streams.Bytes((9 * ChunkSize) + (i * 1000), seed: 20 + i)).ToArray();

        await Task.WhenAll(contents.Select((content, i) => Task.Run(async () =>
        {
            // Every read the store makes notes how many extra buffers all uploads hold at that moment.
            var source = new ObservedStream(content, () =>
            {
                InterlockedMax(ref most, pool.UploadExtrasTaken);
                InterlockedMax(ref mostSlices, pool.ExtraSlicesTaken);
            });
            await t.Store.UploadAsync(Container, $"b{i}", source);
        })));

        if (fromMemory)
        {
            most.Should().BeGreaterThan(0, "the uploads did overlap their reads and writes").And.BeLessThanOrEqualTo(UploadConcurrency);
        }
        else
        {
            most.Should().Be(0, "streamed uploads hold no chunk in memory");
            IsUntouched(pool, marked).Should().BeTrue("no upload took a chunk buffer from the pool");
            mostSlices.Should().BeLessThanOrEqualTo(Environment.ProcessorCount, "uploads share one slice per core beyond each one's first");
        }

        pool.UploadExtrasTaken.Should().Be(0, "every upload gave back the room it took");
        pool.ExtraSlicesTaken.Should().Be(0, "every streamed upload gave back the slices it took beyond its first");
        for (var i = 0; i < contents.Length; i++)
        {
            (await t.Store.DownloadBytesAsync(Container, $"b{i}")).Should().Equal(contents[i]);
        }

        TemporaryFiles(t).Should().BeEmpty();
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
        pool.ExtraSlicesTaken.Should().Be(0);
        (await t.Store.ExistsAsync(Container, "broken")).Should().BeFalse();
        TemporaryFiles(t).Should().BeEmpty("the chunk being written when the source failed was dropped");
    }

    [Test]
    public async Task An_upload_cancelled_midway_leaves_nothing_behind()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var pool = BuffersOf(t);
        using var cancel = new CancellationTokenSource();
        var reads = 0;
        var source = new ObservedStream(Streams.Bytes(8 * ChunkSize, seed: 33), () =>
        {
            if (++reads == 12) cancel.Cancel();
        });

        var upload = async () => await t.Store.UploadAsync(Container, "cancelled", source, cancellationToken: cancel.Token);

        await upload.Should().ThrowAsync<OperationCanceledException>();
        pool.UploadExtrasTaken.Should().Be(0);
        pool.ExtraSlicesTaken.Should().Be(0);
        (await t.Store.ExistsAsync(Container, "cancelled")).Should().BeFalse();
        TemporaryFiles(t).Should().BeEmpty();
    }

    [Test]
    public async Task The_same_content_uploaded_again_is_stored_once_and_leaves_nothing_behind()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes((3 * ChunkSize) + 5, seed: 35);
        await t.Store.UploadBytesAsync(Container, "first", content);
        var files = ChunkFiles(t);

        await t.Store.UploadAsync(Container, "second", new ObservedStream(content, () => { }));

        ChunkFiles(t).Should().BeEquivalentTo(files, "every chunk of the second upload was stored already");
        TemporaryFiles(t).Should().BeEmpty();
        (await t.Store.DownloadBytesAsync(Container, "second")).Should().Equal(content);
    }

    [TestCase(5 * ChunkSize, (2 * ChunkSize) + 5)]
    [TestCase(4 * ChunkSize, (4 * ChunkSize) + 3)]
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
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        TemporaryFiles(t).Should().BeEmpty();
    }

    /// <summary>
    /// A stream that says it holds less than a chunk, and then gives more than a chunk: its first chunk, taken for the
    /// whole content, was not named as it passed, and is named (by BLAKE3) from its bytes once it turns out not to be.
    /// </summary>
    [Test]
    public async Task A_stream_that_says_it_is_shorter_than_a_chunk_and_gives_more_stores_exactly_what_it_gives()
    {
        const int LargeChunk = 4 * 1024 * 1024;
        await using var t = await OpenAsync(LargeChunk);
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes((2 * LargeChunk) + 100, seed: 45);

        var properties = await t.Store.UploadAsync(Container, "longer", new MisreportedLengthStream(content, 2 * 1024 * 1024));

        properties.Size.Should().Be(content.Length);
        (await t.Store.DownloadBytesAsync(Container, "longer")).Should().Equal(content);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        ChunkFiles(t).Select(Path.GetFileName).Should().Contain(ChunkNames.Of(content, LargeChunk).Select(chunk => chunk.Id.ToString()));
        TemporaryFiles(t).Should().BeEmpty();
    }

    [Test]
    public async Task A_small_upload_from_a_stream_that_knows_its_length_takes_no_chunk_buffer()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var pool = BuffersOf(t);
        var chunkBuffer = MarkedChunkBuffer(pool);

        await t.Store.UploadBytesAsync(Container, "small", Streams.Bytes(4096, seed: 50));

        IsUntouched(pool, chunkBuffer).Should().BeTrue("the pool's only chunk buffer was not read into: the 4 KiB upload used a 4 KiB array");
    }

    /// <summary>Puts a chunk buffer filled with a mark into the pool, as its only one.</summary>
    private static byte[] MarkedChunkBuffer(ChunkBufferPool pool)
    {
        var chunkBuffer = pool.RentArray(ChunkSize);
        chunkBuffer.AsSpan().Fill(0xAB);
        pool.ReturnArray(chunkBuffer);
        return chunkBuffer;
    }

    /// <summary>Whether the pool's next chunk buffer is the marked one, still holding nothing but the mark.</summary>
    private static bool IsUntouched(ChunkBufferPool pool, byte[] marked)
    {
        var again = pool.RentArray(ChunkSize);
        try
        {
            return ReferenceEquals(again, marked) && again.All(b => b == 0xAB);
        }
        finally
        {
            pool.ReturnArray(again);
        }
    }

    private string[] ChunkFiles(TestStore t) =>
        [.. (fromMemory ? new[] { "n1", "n2" } : ["chunks"])
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(t.RootPath, folder), "*", SearchOption.AllDirectories))
            .Where(path => Path.GetFileName(path).Length == 64)];

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
