using System.Buffers;
using System.IO.Pipelines;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Contracts;

/// <summary>
/// What every <see cref="IChunkStore"/> promises. An implementation derives a fixture that only
/// says how to make a store (and how to clean up after it); every test here then runs against it.
/// </summary>
public abstract class ChunkStoreContractTests
{
    private IChunkStore? _store;

    /// <summary>The store of the current test, made by <see cref="CreateStore"/>.</summary>
    protected IChunkStore Store => _store ?? throw new InvalidOperationException("The store is made in SetUp.");

    /// <summary>Makes an empty store for one test.</summary>
    protected abstract IChunkStore CreateStore();

    /// <summary>Runs after each test, once the store is disposed; remove whatever the store left behind.</summary>
    protected virtual void CleanUp()
    {
    }

    [SetUp]
    public void CreateStoreForTest() => _store = CreateStore();

    [TearDown]
    public void DisposeStoreAfterTest()
    {
        try
        {
            (_store as IDisposable)?.Dispose();
        }
        finally
        {
            _store = null;
            CleanUp();
        }
    }

    protected static (ChunkId Id, byte[] Content) Chunk(int length, int seed = 1)
    {
        var content = Streams.Bytes(length, seed);
        return (ChunkId.Compute(content), content);
    }

    protected static async Task<List<ChunkId>> EnumerateAllAsync(IChunkStore store)
    {
        var ids = new List<ChunkId>();
        await foreach (var id in store.EnumerateAsync()) ids.Add(id);
        return ids;
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(4 * 1024)]
    [TestCase(1024 * 1024 + 1)]
    public async Task A_written_chunk_reads_back_byte_for_byte(int length)
    {
        var (id, content) = Chunk(length, seed: length);

        (await Store.WriteAsync(id, content)).Should().BeTrue();

        var destination = new byte[length];
        (await Store.ReadAsync(id, destination)).Should().Be(length);
        destination.Should().Equal(content);
    }

    /// <summary>Hands a range of a chunk through a pipe and returns what its reader received.</summary>
    protected static async Task<byte[]> ReadRangeAsync(IChunkStore store, ChunkReference chunk, int offset, int count)
    {
        // Unbounded: the test reads only once the store is done.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await store.ReadRangeAsync(chunk, offset, count, pipe.Writer);
        await pipe.Writer.CompleteAsync();
        var result = await pipe.Reader.ReadAtLeastAsync(int.MaxValue);
        var bytes = result.Buffer.ToArray();
        pipe.Reader.AdvanceTo(result.Buffer.End);
        await pipe.Reader.CompleteAsync();
        return bytes;
    }

    [TestCase(0, 0, 0)]
    [TestCase(1, 0, 1)]
    [TestCase(1000, 0, 1000)]
    [TestCase(1000, 999, 1)]
    [TestCase(300 * 1024, 0, 300 * 1024)]
    [TestCase(300 * 1024, 64 * 1024, 64 * 1024)]
    [TestCase(300 * 1024, 65535, 2)]
    [TestCase(300 * 1024, 150 * 1024, 1)]
    [TestCase(300 * 1024, 100, 300 * 1024 - 100)]
    [TestCase(1024 * 1024 + 7, 1024 * 1024, 7)]
    public async Task A_range_read_hands_on_exactly_the_bytes_of_the_range(int length, int offset, int count)
    {
        var (id, content) = Chunk(length, seed: length + offset);
        await Store.WriteAsync(id, content);

        var bytes = await ReadRangeAsync(Store, new ChunkReference(id, length), offset, count);

        bytes.Should().Equal(content.AsSpan(offset, count).ToArray());
    }

    [Test]
    public async Task A_range_read_of_a_missing_chunk_throws_DataCorruptionException()
    {
        var (id, _) = Chunk(10);

        var read = async () => await ReadRangeAsync(Store, new ChunkReference(id, 10), 0, 10);

        await read.Should().ThrowAsync<DataCorruptionException>();
    }

    [Test]
    public async Task A_range_read_of_a_chunk_whose_length_is_not_the_listed_one_throws_DataCorruptionException()
    {
        var (id, content) = Chunk(100);
        await Store.WriteAsync(id, content);

        var read = async () => await ReadRangeAsync(Store, new ChunkReference(id, 50), 0, 50);

        await read.Should().ThrowAsync<BlobStorageException>();
    }

    [Test]
    public async Task A_range_past_the_chunk_throws_ArgumentOutOfRangeException()
    {
        var (id, content) = Chunk(100);
        await Store.WriteAsync(id, content);

        var read = async () => await ReadRangeAsync(Store, new ChunkReference(id, 100), 90, 11);

        await read.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Test]
    public async Task A_larger_destination_is_filled_at_its_start_and_the_rest_is_left_alone()
    {
        var (id, content) = Chunk(100);
        await Store.WriteAsync(id, content);
        var destination = Enumerable.Repeat((byte)0xEE, 150).ToArray();

        (await Store.ReadAsync(id, destination)).Should().Be(100);

        destination.AsSpan(0, 100).ToArray().Should().Equal(content);
        destination.AsSpan(100).ToArray().Should().OnlyContain(b => b == 0xEE);
    }

    [Test]
    public async Task The_store_keeps_its_own_copy_of_the_content()
    {
        var (id, content) = Chunk(64);
        var original = content.ToArray();
        await Store.WriteAsync(id, content);

        Array.Clear(content);

        var destination = new byte[64];
        await Store.ReadAsync(id, destination);
        destination.Should().Equal(original);
    }

    [Test]
    public async Task Writing_a_stored_chunk_again_returns_false_and_keeps_it()
    {
        var (id, content) = Chunk(1000);

        (await Store.WriteAsync(id, content)).Should().BeTrue();
        (await Store.WriteAsync(id, content)).Should().BeFalse();

        var destination = new byte[1000];
        (await Store.ReadAsync(id, destination)).Should().Be(1000);
        destination.Should().Equal(content);
        (await EnumerateAllAsync(Store)).Should().Equal(id);
    }

    [Test]
    public async Task Exists_is_false_before_a_write_true_after_and_false_after_a_delete()
    {
        var (id, content) = Chunk(10);

        (await Store.ExistsAsync(id)).Should().BeFalse();
        await Store.WriteAsync(id, content);
        (await Store.ExistsAsync(id)).Should().BeTrue();
        await Store.DeleteAsync(id);
        (await Store.ExistsAsync(id)).Should().BeFalse();
    }

    [Test]
    public async Task Delete_returns_true_for_a_stored_chunk_and_false_once_it_is_gone()
    {
        var (id, content) = Chunk(10);
        await Store.WriteAsync(id, content);

        (await Store.DeleteAsync(id)).Should().BeTrue();
        (await Store.DeleteAsync(id)).Should().BeFalse();
    }

    [Test]
    public async Task Deleting_a_chunk_that_was_never_written_returns_false()
    {
        var (id, _) = Chunk(10);

        (await Store.DeleteAsync(id)).Should().BeFalse();
    }

    [Test]
    public async Task A_deleted_chunk_can_be_written_again()
    {
        var (id, content) = Chunk(300);
        await Store.WriteAsync(id, content);
        await Store.DeleteAsync(id);

        (await Store.WriteAsync(id, content)).Should().BeTrue();

        var destination = new byte[300];
        (await Store.ReadAsync(id, destination)).Should().Be(300);
        destination.Should().Equal(content);
    }

    [Test]
    public async Task An_empty_store_enumerates_nothing()
    {
        (await EnumerateAllAsync(Store)).Should().BeEmpty();
    }

    [Test]
    public async Task Enumerate_returns_exactly_the_stored_ids()
    {
        var chunks = Enumerable.Range(1, 40).Select(i => Chunk(i * 7, seed: i)).ToList();
        foreach (var (id, content) in chunks) await Store.WriteAsync(id, content);
        await Store.DeleteAsync(chunks[0].Id);
        await Store.DeleteAsync(chunks[17].Id);

        var expected = chunks.Select(c => c.Id).Except([chunks[0].Id, chunks[17].Id]);
        (await EnumerateAllAsync(Store)).Should().BeEquivalentTo(expected).And.OnlyHaveUniqueItems();
    }

    [Test]
    public async Task Reading_a_missing_chunk_throws_DataCorruptionException()
    {
        var (id, _) = Chunk(10);

        var read = async () => await Store.ReadAsync(id, new byte[10]);

        (await read.Should().ThrowAsync<DataCorruptionException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.DataCorruption);
    }

    [Test]
    public async Task Reading_a_deleted_chunk_throws_DataCorruptionException()
    {
        var (id, content) = Chunk(10);
        await Store.WriteAsync(id, content);
        await Store.DeleteAsync(id);

        var read = async () => await Store.ReadAsync(id, new byte[10]);

        await read.Should().ThrowAsync<DataCorruptionException>();
    }

    [Test]
    public async Task A_destination_shorter_than_the_chunk_throws_ArgumentException_naming_the_size()
    {
        var (id, content) = Chunk(4096);
        await Store.WriteAsync(id, content);

        var read = async () => await Store.ReadAsync(id, new byte[4095]);

        (await read.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("4096");
    }

    [Test]
    public async Task Eight_concurrent_writes_of_one_chunk_all_succeed_and_it_reads_back()
    {
        var (id, content) = Chunk(256 * 1024, seed: 8);
        using var start = new ManualResetEventSlim();

        var writes = Enumerable.Range(0, 8)
            .Select(_ => Task.Run(async () =>
            {
                start.Wait();
                return await Store.WriteAsync(id, content);
            }))
            .ToArray();
        start.Set();
        var results = await Task.WhenAll(writes);

        results.Should().Contain(true, "some writer stored the chunk");
        var destination = new byte[content.Length];
        (await Store.ReadAsync(id, destination)).Should().Be(content.Length);
        destination.Should().Equal(content);
        (await EnumerateAllAsync(Store)).Should().Equal(id);
    }

    [Test]
    public async Task Concurrent_writes_of_different_chunks_are_all_stored()
    {
        var chunks = Enumerable.Range(1, 64).Select(i => Chunk(1000 + i, seed: i)).ToList();

        var results = await Task.WhenAll(chunks.Select(c => Task.Run(async () => await Store.WriteAsync(c.Id, c.Content))));

        results.Should().OnlyContain(written => written);
        (await EnumerateAllAsync(Store)).Should().BeEquivalentTo(chunks.Select(c => c.Id));
        foreach (var (id, content) in chunks)
        {
            var destination = new byte[content.Length];
            await Store.ReadAsync(id, destination);
            destination.Should().Equal(content);
        }
    }

    [Test]
    public async Task Concurrent_deletes_of_one_chunk_report_exactly_one_success()
    {
        var (id, content) = Chunk(100);
        await Store.WriteAsync(id, content);
        using var start = new ManualResetEventSlim();

        var deletes = Enumerable.Range(0, 8)
            .Select(_ => Task.Run(async () =>
            {
                start.Wait();
                return await Store.DeleteAsync(id);
            }))
            .ToArray();
        start.Set();

        (await Task.WhenAll(deletes)).Count(deleted => deleted).Should().Be(1);
        (await Store.ExistsAsync(id)).Should().BeFalse();
    }

    [Test]
    public async Task A_cancelled_token_is_honoured_before_any_work()
    {
        var (id, content) = Chunk(100);
        var (stored, storedContent) = Chunk(50, seed: 2);
        await Store.WriteAsync(stored, storedContent);
        var cancelled = new CancellationToken(canceled: true);

        await FluentActions.Awaiting(async () => await Store.WriteAsync(id, content, cancelled)).Should().ThrowAsync<OperationCanceledException>();
        await FluentActions.Awaiting(async () => await Store.ReadAsync(stored, new byte[50], cancelled)).Should().ThrowAsync<OperationCanceledException>();
        await FluentActions.Awaiting(async () => await Store.ExistsAsync(stored, cancelled)).Should().ThrowAsync<OperationCanceledException>();
        await FluentActions.Awaiting(async () => await Store.DeleteAsync(stored, cancelled)).Should().ThrowAsync<OperationCanceledException>();
        await FluentActions.Awaiting(async () =>
        {
            await foreach (var _ in Store.EnumerateAsync(cancelled))
            {
            }
        }).Should().ThrowAsync<OperationCanceledException>();

        (await Store.ExistsAsync(id)).Should().BeFalse("a cancelled write stores nothing");
        (await Store.ExistsAsync(stored)).Should().BeTrue("a cancelled delete removes nothing");
    }

    [Test]
    public async Task Cancelling_an_enumeration_stops_it()
    {
        foreach (var (id, content) in Enumerable.Range(1, 10).Select(i => Chunk(10, seed: i))) await Store.WriteAsync(id, content);
        using var cts = new CancellationTokenSource();

        var seen = 0;
        var enumerate = async () =>
        {
            await foreach (var _ in Store.EnumerateAsync().WithCancellation(cts.Token))
            {
                seen++;
                await cts.CancelAsync();
            }
        };

        await enumerate.Should().ThrowAsync<OperationCanceledException>();
        seen.Should().Be(1);
    }
}
