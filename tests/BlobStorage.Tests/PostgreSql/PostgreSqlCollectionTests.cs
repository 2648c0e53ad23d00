using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.PostgreSql;

/// <summary>
/// Garbage collection with two stores (two "processes": each its own chunk leases) over one PostgreSQL schema and one
/// chunk store: a collector in one never leaves the other's upload pointing at a deleted chunk (see IChunkCollectionGuard).
/// </summary>
public sealed class PostgreSqlCollectionTests
{
    private const int ChunkSize = 64 * 1024;
    private PostgreSqlTestDatabase _database = null!;
    private TempFolder _folder = null!;
    private FileSystemChunkStore _chunks = null!;
    private FakeTimeProvider _time = null!;

    [SetUp]
    public void Create()
    {
        _database = PostgreSqlTestDatabase.Create("gc");
        _folder = new TempFolder("pg-gc");
        _chunks = new FileSystemChunkStore(Path.Combine(_folder.Path, "chunks"));
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    }

    [TearDown]
    public async Task CleanUpAsync()
    {
        _chunks?.Dispose();
        if (_database is not null) await _database.DisposeAsync();
        _database = null!;
        _folder?.Dispose();
    }

    private Task<IBlobStore> OpenAsync(string name) =>
        new BlobStoreBuilder(Path.Combine(_folder.Path, name))
            .UsePostgreSqlMetadataStore(PostgreSqlTestDatabase.ConnectionString, _database.Schema)
            .UseChunkStore(_chunks)
            .UseTimeProvider(_time)
            .Configure(o =>
            {
                o.ChunkSize = ChunkSize;
                o.InlineThreshold = 0;

                // Only the passes the tests run: a timer's pass fired by advancing the clock would collect at a moment of its own.
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            })
            .OpenAsync();

    [Test]
    public async Task An_upload_that_found_a_chunk_another_process_collects_meanwhile_is_refused_and_succeeds_when_retried()
    {
        await using var a = await OpenAsync("a");
        await using var b = await OpenAsync("b");
        await a.CreateContainerAsync("box");
        var content = new byte[ChunkSize];
        new Random(7).NextBytes(content);

        // The chunk is stored, then unreferenced for longer than the grace period: collectable.
        await a.UploadAsync("box", "old", new MemoryStream(content));
        await a.DeleteAsync("box", "old");
        _time.Advance(TimeSpan.FromMinutes(16));

        // A uploads the same bytes: it reads the collection epoch, takes the chunk (already stored: not written again),
        // and waits at the end of its stream, before its commit.
        var stream = new PausingStream(content);
        var upload = a.UploadAsync("box", "new", stream);
        await stream.Paused;

        // B's collector knows nothing of A's upload: it removes the chunk's row and deletes its file (A's copy of it, in
        // flight, may land after the delete or not: either way A cannot count on it).
        await b.RunMaintenanceAsync();
        (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.chunks;")).Should().Be(0L, "B's collector removed the chunk's row, so its file may go at any moment");

        // A's commit must not point a blob at that file.
        stream.Resume();
        var refused = (await FluentActions.Awaiting(() => upload).Should().ThrowAsync<BlobStorageException>()).Which;
        refused.ErrorCode.Should().Be(BlobErrorCode.StoreBusy);
        refused.Message.Should().Contain("collector");
        await FluentActions.Awaiting(() => b.GetPropertiesAsync("box", "new")).Should().ThrowAsync<BlobNotFoundException>("a refused commit changes nothing");

        // Uploaded again, the chunk is written anew and the blob is whole for both processes.
        await a.UploadAsync("box", "new", new MemoryStream(content));
        (await ReadAllAsync(b, "new")).Should().Equal(content);
        (await a.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await b.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task An_upload_from_a_seekable_stream_refused_that_way_is_sent_again_and_stored()
    {
        await using var a = await OpenAsync("a");
        await using var b = await OpenAsync("b");
        await a.CreateContainerAsync("box");
        var content = new byte[ChunkSize * 2];
        new Random(9).NextBytes(content);
        await a.UploadAsync("box", "old", new MemoryStream(content));
        await a.DeleteAsync("box", "old");
        _time.Advance(TimeSpan.FromMinutes(16));

        // As above, B collects the chunks A's upload found, while A waits at the end of its stream; this stream can seek.
        var stream = new PausingStream(content, seekable: true);
        var upload = a.UploadAsync("box", "new", stream);
        await stream.Paused;
        await b.RunMaintenanceAsync();
        (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.chunks;")).Should().Be(0L);
        stream.Resume();

        // Refused once, then read again from its start: the chunks are written anew and the blob committed.
        var stored = await upload;
        stored.Size.Should().Be(content.Length);
        stream.Starts.Should().Be(2, "the refused attempt read the stream once and the retry read it again from the start");
        (await ReadAllAsync(b, "new")).Should().Equal(content);
        (await a.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await b.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task A_part_from_a_seekable_stream_refused_that_way_is_sent_again_and_stored()
    {
        await using var a = await OpenAsync("a");
        await using var b = await OpenAsync("b");
        await a.CreateContainerAsync("box");
        var content = new byte[ChunkSize * 2];
        new Random(10).NextBytes(content);
        await a.UploadAsync("box", "old", new MemoryStream(content));
        await a.DeleteAsync("box", "old");
        _time.Advance(TimeSpan.FromMinutes(16));

        var uploadId = await a.StartMultipartUploadAsync("box", "big");
        var stream = new PausingStream(content, seekable: true);
        var part = a.UploadPartAsync(uploadId, 1, stream);
        await stream.Paused;
        await b.RunMaintenanceAsync();
        (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.chunks;")).Should().Be(0L);
        stream.Resume();

        var uploaded = await part;
        stream.Starts.Should().Be(2, "the refused attempt read the stream once and the retry read it again from the start");
        await a.CompleteMultipartUploadAsync(uploadId, [new CompletedPart(1, uploaded.ETag)]);
        (await ReadAllAsync(b, "big")).Should().Equal(content);
        (await b.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task A_collection_that_ended_before_an_upload_began_does_not_refuse_it()
    {
        await using var a = await OpenAsync("a");
        await using var b = await OpenAsync("b");
        await a.CreateContainerAsync("box");
        var content = new byte[ChunkSize * 2];
        new Random(8).NextBytes(content);
        await a.UploadAsync("box", "old", new MemoryStream(content));
        await a.DeleteAsync("box", "old");
        _time.Advance(TimeSpan.FromMinutes(16));
        await b.RunMaintenanceAsync();

        // The same bytes after the collection: written again, committed, readable everywhere.
        await a.UploadAsync("box", "again", new MemoryStream(content));
        (await ReadAllAsync(b, "again")).Should().Equal(content);
        (await b.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.chunk_removals WHERE NOT done;")).Should().Be(0L, "every removal the collector began, it ended");
    }

    private static async Task<byte[]> ReadAllAsync(IBlobStore store, string name)
    {
        await using var download = await store.DownloadAsync("box", name);
        using var copy = new MemoryStream();
        await download.Content.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>Gives its content, then waits at its end (before answering "no more") until resumed.</summary>
    /// <remarks>With <c>seekable</c>, its position can be set back to 0 (counted in <see cref="Starts"/>); it pauses only the first time.</remarks>
    private sealed class PausingStream(byte[] content, bool seekable = false) : Stream
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public Task Paused => _paused.Task;

        /// <summary>How many times it was read from its start.</summary>
        public int Starts { get; private set; } = 1;

        public override bool CanRead => true;

        public override bool CanSeek => seekable;

        public override bool CanWrite => false;

        public override long Length => seekable ? content.Length : throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set
            {
                if (!seekable || value != 0) throw new NotSupportedException();
                _position = 0;
                Starts++;
            }
        }

        public void Resume() => _resume.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == content.Length)
            {
                _paused.TrySetResult();
                await _resume.Task.WaitAsync(cancellationToken);
                return 0;
            }

            var count = Math.Min(buffer.Length, content.Length - _position);
            content.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
