using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Contracts;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.CloudChunks;

/// <summary>
/// The chunk store contract for a store in a cloud container or bucket, each test under a key prefix of its own in
/// the fixture's container, and what is particular to a store behind a network: a missing container, refused
/// credentials, an unreachable server, objects damaged behind the store's back.
/// </summary>
public abstract class CloudChunkStoreTests : ChunkStoreContractTests
{
    private const int Block = BlockChunkFormat.DefaultBlockSize;

    /// <summary>Opens a store over the fixture's container under <paramref name="prefix"/>.</summary>
    protected abstract IChunkStore OpenStore(string prefix);

    /// <summary>The object's bytes, read without the store.</summary>
    protected abstract Task<byte[]> GetObjectAsync(string key);

    /// <summary>Overwrites the object behind the store's back.</summary>
    protected abstract Task PutObjectAsync(string key, byte[] bytes);

    /// <summary>A store over a container or bucket that does not exist.</summary>
    protected abstract IChunkStore OpenMissingContainerStore();

    /// <summary>A store whose credentials the server refuses.</summary>
    protected abstract IChunkStore OpenWrongCredentialsStore();

    /// <summary>A store whose server is 127.0.0.1:<paramref name="port"/>, where nothing listens, retrying <paramref name="retries"/> times.</summary>
    protected abstract IChunkStore OpenUnreachableStore(int port, int retries);

    /// <summary>The test server's host and port.</summary>
    protected abstract (string Host, int Port) ServerEndpoint { get; }

    /// <summary>A store under <paramref name="prefix"/> that reaches the server through 127.0.0.1:<paramref name="port"/>, retrying once.</summary>
    protected abstract IChunkStore OpenStoreThrough(int port, string prefix);

    /// <summary>The key of a chunk's object.</summary>
    protected abstract string KeyOf(IChunkStore store, ChunkId id);

    protected override IChunkStore CreateStore() => OpenStore(NewPrefix());

    protected static string NewPrefix() => "t-" + Guid.NewGuid().ToString("N")[..16];

    private static async Task<BlobStorageException> ThrowsUnavailableAsync(Func<Task> action)
    {
        var thrown = (await action.Should().ThrowAsync<BlobStorageException>()).Which;
        thrown.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        thrown.InnerException.Should().NotBeNull("the service's own error is kept as the cause");
        return thrown;
    }

    [Test]
    public async Task A_container_that_does_not_exist_is_StoreUnavailable()
    {
        var store = OpenMissingContainerStore();
        try
        {
            var (id, content) = Chunk(100);
            var thrown = await ThrowsUnavailableAsync(async () => await store.WriteAsync(id, content));
            thrown.Message.Should().Contain("does not exist");
            await ThrowsUnavailableAsync(async () => await store.ExistsAsync(id));
            await ThrowsUnavailableAsync(async () => await store.ReadAsync(id, new byte[100]));
            await ThrowsUnavailableAsync(async () => await EnumerateAllAsync(store));
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    [Test]
    public async Task Refused_credentials_are_StoreUnavailable()
    {
        var store = OpenWrongCredentialsStore();
        try
        {
            var (id, content) = Chunk(100);
            var thrown = await ThrowsUnavailableAsync(async () => await store.WriteAsync(id, content));
            thrown.Message.Should().Contain("credentials were refused");
            await ThrowsUnavailableAsync(async () => await store.ReadAsync(id, new byte[100]));
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    [Test]
    public async Task An_unreachable_server_is_StoreUnavailable_after_the_configured_retries()
    {
        // A port that was free a moment ago: connections to it are refused at once.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var store = OpenUnreachableStore(port, retries: 2);
        try
        {
            var (id, content) = Chunk(100);
            var thrown = await ThrowsUnavailableAsync(async () => await store.WriteAsync(id, content));
            thrown.Message.Should().Contain("after 3 attempts", "one try and the two retries the options allow");
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    [Test]
    public async Task A_server_that_goes_away_is_StoreUnavailable_and_the_store_works_again_once_it_is_back()
    {
        var (host, port) = ServerEndpoint;
        await using var proxy = TcpProxy.Start(host, port);
        var store = OpenStoreThrough(proxy.Port, NewPrefix());
        try
        {
            var (first, firstContent) = Chunk(5000, seed: 41);
            var (second, secondContent) = Chunk(5000, seed: 42);
            (await store.WriteAsync(first, firstContent)).Should().BeTrue();

            await proxy.DownAsync();
            await ThrowsUnavailableAsync(async () => await store.WriteAsync(second, secondContent));
            await ThrowsUnavailableAsync(async () => await store.ReadAsync(first, new byte[5000]));

            proxy.Up();
            (await store.WriteAsync(second, secondContent)).Should().BeTrue("the failed write stored nothing");
            var destination = new byte[5000];
            await store.ReadAsync(first, destination);
            destination.Should().Equal(firstContent, "what was acknowledged before the outage is there");
            await store.ReadAsync(second, destination);
            destination.Should().Equal(secondContent);
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    [Test]
    public async Task A_corrupted_object_is_DataCorruptionException_and_no_bad_byte_is_handed_on()
    {
        var (id, content) = Chunk(3 * Block, seed: 31);
        await Store.WriteAsync(id, content);
        var key = KeyOf(Store, id);
        var stored = await GetObjectAsync(key);
        var contentStart = stored.Length - content.Length;
        stored[contentStart + Block + 100] ^= 0x40;
        await PutObjectAsync(key, stored);

        var destination = new byte[content.Length];
        await FluentActions.Awaiting(async () => await Store.ReadAsync(id, destination)).Should().ThrowAsync<DataCorruptionException>();
        destination.Should().OnlyContain(b => b == 0, "unverified bytes are cleared from the caller's buffer");

        var (handed, failure) = await ReadRangeCatchingAsync(Store, new ChunkReference(id, content.Length), 0, content.Length);
        failure.Should().BeOfType<DataCorruptionException>();
        handed.Length.Should().BeLessThanOrEqualTo(Block, "nothing of the damaged block or after it is handed on");
        handed.Should().Equal(content.AsSpan(0, handed.Length).ToArray());
    }

    [Test]
    public async Task A_range_read_checks_only_the_blocks_it_covers()
    {
        var length = (4 * Block) + 1000;
        var (id, content) = Chunk(length, seed: 32);
        await Store.WriteAsync(id, content);
        var key = KeyOf(Store, id);
        var stored = await GetObjectAsync(key);
        stored[stored.Length - content.Length + (2 * Block) + 7] ^= 0x01;
        await PutObjectAsync(key, stored);
        var chunk = new ChunkReference(id, length);

        (await ReadRangeAsync(Store, chunk, 10, 1000)).Should().Equal(content.AsSpan(10, 1000).ToArray(), "block 0 is intact");
        (await ReadRangeAsync(Store, chunk, (3 * Block) + 5, Block)).Should().Equal(content.AsSpan((3 * Block) + 5, Block).ToArray(), "blocks 3 and 4 are intact");
        await FluentActions.Awaiting(() => ReadRangeAsync(Store, chunk, (2 * Block) + 100, 10)).Should().ThrowAsync<DataCorruptionException>();
        await FluentActions.Awaiting(() => ReadRangeAsync(Store, chunk, Block - 1, 2 * Block)).Should().ThrowAsync<DataCorruptionException>();
    }

    [Test]
    public async Task A_truncated_object_is_DataCorruptionException()
    {
        var (id, content) = Chunk(3 * Block, seed: 33);
        await Store.WriteAsync(id, content);
        var key = KeyOf(Store, id);
        var stored = await GetObjectAsync(key);
        await PutObjectAsync(key, stored[..(stored.Length - Block - 10)]);

        await FluentActions.Awaiting(async () => await Store.ReadAsync(id, new byte[content.Length])).Should().ThrowAsync<DataCorruptionException>();
        await FluentActions.Awaiting(() => ReadRangeAsync(Store, new ChunkReference(id, content.Length), (2 * Block) + 1, 10)).Should().ThrowAsync<DataCorruptionException>();
        (await ReadRangeAsync(Store, new ChunkReference(id, content.Length), 1, 10)).Should().Equal(content.AsSpan(1, 10).ToArray());
    }

    [Test]
    public async Task An_object_written_over_by_another_chunk_is_DataCorruptionException()
    {
        var (id, content) = Chunk(1000, seed: 34);
        var (other, otherContent) = Chunk(1000, seed: 35);
        await Store.WriteAsync(id, content);
        await Store.WriteAsync(other, otherContent);
        await PutObjectAsync(KeyOf(Store, id), await GetObjectAsync(KeyOf(Store, other)));

        (await FluentActions.Awaiting(async () => await Store.ReadAsync(id, new byte[1000])).Should().ThrowAsync<DataCorruptionException>())
            .Which.Message.Should().Contain("names another chunk");
    }

    [Test]
    public async Task The_last_write_time_is_the_objects_Last_Modified()
    {
        var (id, content) = Chunk(10, seed: 36);
        (await Store.GetLastWriteTimeAsync(id)).Should().BeNull();

        await Store.WriteAsync(id, content);

        (await Store.GetLastWriteTimeAsync(id)).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(2));
    }

    [Test]
    public async Task A_chunk_object_is_a_chunk_file_the_folder_store_reads()
    {
        var (id, content) = Chunk((2 * Block) + 3, seed: 37);
        await Store.WriteAsync(id, content);
        var stored = await GetObjectAsync(KeyOf(Store, id));
        stored.AsSpan(0, 8).ToArray().Should().Equal("BSCHUNK2"u8.ToArray());

        using var folder = new TempFolder("cloud-object");
        using var files = new FileSystemChunkStore(folder.Path);
        await File.WriteAllBytesAsync(files.GetPath(id), stored);
        var destination = new byte[content.Length];
        (await files.ReadAsync(id, destination)).Should().Be(content.Length);
        destination.Should().Equal(content);
    }

    [Test]
    public void The_store_marker_is_an_object_and_another_stores_id_is_refused()
    {
        var marker = (IStoreMarker)Store;
        marker.ReadStoreId().Should().BeNull();

        marker.WriteStoreId("0123abcd");

        marker.ReadStoreId().Should().Be("0123abcd");
        var write = () => marker.WriteStoreId("4567ef");
        write.Should().Throw<BlobStorageException>().Which.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        marker.ReadStoreId().Should().Be("0123abcd", "the refused write changed nothing");
    }

    private static async Task<(byte[] Handed, Exception? Failure)> ReadRangeCatchingAsync(IChunkStore store, ChunkReference chunk, int offset, int count)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        Exception? failure = null;
        try
        {
            await store.ReadRangeAsync(chunk, offset, count, pipe.Writer);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        await pipe.Writer.CompleteAsync();
        var result = await pipe.Reader.ReadAtLeastAsync(int.MaxValue);
        var bytes = System.Buffers.BuffersExtensions.ToArray(result.Buffer);
        pipe.Reader.AdvanceTo(result.Buffer.End);
        await pipe.Reader.CompleteAsync();
        return (bytes, failure);
    }
}
