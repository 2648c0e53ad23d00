using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Tests.Safety;

/// <summary>
/// A download delivers exactly the bytes the blob's properties declare, or throws: metadata that contradicts
/// itself (a chunk list one entry short, a size one byte off, an inline blob whose content is gone) is
/// corruption, reported by the download and by <see cref="IBlobStore.VerifyAsync"/>, never a short read.
/// And a download stream whose copy failed never poisons later reads.
/// </summary>
public class ContentIntegrityTests
{
    private const string Container = "integrity";
    private const int Chunk = TestStore.ChunkSize;

    /// <summary>Changes the metadata database behind the store's back, as a damaged or hand-edited file would.</summary>
    private static async Task TamperAsync(TestStore t, string sql)
    {
        await t.Store.DisposeAsync();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(t.RootPath, "metadata.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery().Should().Be(1, sql);
        }

        await t.ReopenAsync();
    }

    private static async Task ExpectCorruptAsync(TestStore t, string name, BlobRange? range = null)
    {
        var download = () => t.Store.DownloadBytesAsync(Container, name, range is null ? null : new BlobDownloadOptions { Range = range });
        var error = (await download.Should().ThrowAsync<DataCorruptionException>()).Which;
        error.Message.Should().Contain(name);
        var report = await t.Store.VerifyAsync(verifyContent: true);
        report.IsClean.Should().BeFalse();
        report.MissingChunks.Should().Contain(m => m.Name == name && m.Reason.Contains("size", StringComparison.Ordinal));
    }

    [Test]
    public async Task A_chunk_list_one_entry_short_is_corruption_not_a_short_read()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "x", Streams.Bytes(3 * Chunk + 10, seed: 1));
        await TamperAsync(t, "UPDATE blobs SET chunks = substr(chunks, 1, length(chunks) - 36) WHERE name = CAST('x' AS BLOB);");
        await ExpectCorruptAsync(t, "x");
        await ExpectCorruptAsync(t, "x", new BlobRange(2 * Chunk));
    }

    [TestCase("UPDATE blobs SET chunks = substr(chunks, 1, length(chunks) - 1) WHERE name = CAST('x' AS BLOB);", "whole number", TestName = "A chunk list that ends inside an entry is corruption")]
    [TestCase("UPDATE blobs SET chunks = substr(chunks, 1, 68) || X'FFFFFFFF' || substr(chunks, 73) WHERE name = CAST('x' AS BLOB);", "negative length", TestName = "A chunk list entry of negative length is corruption")]
    public async Task A_chunk_list_that_cannot_be_read_is_corruption(string damage, string rule)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "x", Streams.Bytes(3 * Chunk + 10, seed: 6));
        await TamperAsync(t, damage);
        var whole = () => t.Store.DownloadBytesAsync(Container, "x");
        (await whole.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(rule);
        var range = () => t.Store.DownloadBytesAsync(Container, "x", new BlobDownloadOptions { Range = new BlobRange(3 * Chunk, 1) });
        (await range.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(rule);
    }

    [TestCase(1)]
    [TestCase(-1)]
    public async Task A_size_one_byte_off_is_corruption(int delta)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "x", Streams.Bytes(2 * Chunk + 10, seed: 2));
        await TamperAsync(t, $"UPDATE blobs SET size = size + ({delta}) WHERE name = CAST('x' AS BLOB);");
        await ExpectCorruptAsync(t, "x");
    }

    [TestCase("UPDATE blobs SET inline_id = NULL WHERE name = CAST('small' AS BLOB);", TestName = "An inline blob without its content is corruption")]
    [TestCase("UPDATE blobs SET size = 301 WHERE name = CAST('small' AS BLOB);", TestName = "An inline blob with a size one byte off is corruption")]
    public async Task An_inline_blob_that_contradicts_itself_is_corruption(string damage)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "small", Streams.Bytes(300, seed: 3));
        await TamperAsync(t, damage);
        await ExpectCorruptAsync(t, "small");
    }

    [TestCase(false, TestName = "After a copy whose destination failed, the download stream is closed, not poisoned")]
    [TestCase(true, TestName = "After a cancelled copy, the download stream is closed, not poisoned")]
    public async Task A_failed_copy_closes_the_stream(bool cancel)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "x", Streams.Bytes(4 * Chunk, seed: 5));
        var download = await t.Store.DownloadAsync(Container, "x");
        await using (download)
        {
            using var cancellation = new CancellationTokenSource();
            var destination = new FailingDestination(cancel ? cancellation.Cancel : null);
            var copy = () => download.Content.CopyToAsync(destination, cancellation.Token);
            if (cancel) await copy.Should().ThrowAsync<OperationCanceledException>();
            else await copy.Should().ThrowAsync<IOException>().WithMessage("*destination broke*");

            var read = () => download.Content.ReadAsync(new byte[100]).AsTask();
            await read.Should().ThrowAsync<ObjectDisposedException>("a stream whose copy failed reads no further, and says so plainly");
            download.Content.CanRead.Should().BeFalse();
        }

        // Its chunks were released: a delete and a collection pass remove them.
        await t.Store.DeleteAsync(Container, "x");
        t.Time.Advance(TimeSpan.FromMinutes(16));
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(4);
    }

    /// <summary>Takes one write, then fails the next (or cancels the copy's token before it).</summary>
    private sealed class FailingDestination(Action? cancel) : Stream
    {
        private int _writes;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (++_writes == 1) return ValueTask.CompletedTask;
            if (cancel is null) return ValueTask.FromException(new IOException("The destination broke."));
            cancel();
            return ValueTask.FromCanceled(cancellationToken);
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
