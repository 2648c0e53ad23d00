using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Contracts;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// An <see cref="IChunkStore"/> in memory, for tests. It keeps a copy of each chunk and checks on
/// every read that the bytes still hash to the id, standing in for a stored checksum; a test can
/// damage a chunk with <see cref="Corrupt"/> to see how its callers cope.
/// </summary>
public sealed class MemoryChunkStore : IChunkStore
{
    private readonly ConcurrentDictionary<ChunkId, byte[]> _chunks = new();
    private readonly ConcurrentDictionary<ChunkId, DateTimeOffset> _written = new();
    private readonly TimeProvider _time;

    /// <param name="time">The clock that dates writes (the system's by default).</param>
    public MemoryChunkStore(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>How many chunks are stored.</summary>
    public int Count => _chunks.Count;

    /// <summary>Flips one bit of a stored chunk (the first bit of the byte at <paramref name="offset"/>); false when the chunk is absent or empty.</summary>
    public bool Corrupt(ChunkId id, int offset = 0)
    {
        if (!_chunks.TryGetValue(id, out var bytes) || bytes.Length == 0) return false;
        bytes[offset % bytes.Length] ^= 0x01;
        return true;
    }

    public ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_chunks.ContainsKey(id));
    }

    public ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_chunks.TryAdd(id, content.ToArray())) return ValueTask.FromResult(false);
        _written[id] = _time.GetUtcNow();
        return ValueTask.FromResult(true);
    }

    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_chunks.TryGetValue(id, out var bytes))
        {
            throw new DataCorruptionException($"Chunk {id} is missing from the memory store.");
        }

        if (destination.Length < bytes.Length)
        {
            throw new ArgumentException($"Chunk {id} holds {bytes.Length} bytes; the destination has room for {destination.Length}.", nameof(destination));
        }

        // Verified before a byte reaches the caller, as the contract asks.
        if (!id.Matches(bytes))
        {
            throw new DataCorruptionException($"Chunk {id} fails its checksum: its bytes no longer hash to its id.");
        }

        bytes.CopyTo(destination);
        return ValueTask.FromResult(bytes.Length);
    }

    public ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_chunks.TryRemove(id, out _));
    }

    public ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_chunks.ContainsKey(id) && _written.TryGetValue(id, out var written) ? written : (DateTimeOffset?)null);
    }

    public async IAsyncEnumerable<ChunkId> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var id in _chunks.Keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return id;
        }
    }
}

/// <summary>The chunk store contract, run against <see cref="MemoryChunkStore"/>.</summary>
public sealed class MemoryChunkStoreTests : ChunkStoreContractTests
{
    protected override IChunkStore CreateStore() => new MemoryChunkStore();

    [Test]
    public async Task A_corrupted_chunk_throws_DataCorruptionException_and_leaves_the_destination_untouched()
    {
        var (id, content) = Chunk(100);
        var store = (MemoryChunkStore)Store;
        await store.WriteAsync(id, content);

        store.Corrupt(id, offset: 42).Should().BeTrue();

        var destination = new byte[100];
        var read = async () => await store.ReadAsync(id, destination);
        (await read.Should().ThrowAsync<DataCorruptionException>()).Which.Message.Should().Contain(id.ToString());
        destination.Should().OnlyContain(b => b == 0);
    }
}
