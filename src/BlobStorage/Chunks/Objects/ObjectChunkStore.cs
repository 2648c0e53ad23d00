using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Chunks.Objects;

/// <summary>
/// The chunk store behind the cloud packages (<c>AzureBlobChunkStore</c>, <c>S3ChunkStore</c>): each chunk one object,
/// <c>{prefix}chunks/ab/abcd…</c> (sharded by the id's first byte, as the folder store's files), written once and in the
/// folder store's <c>BSCHUNK2</c> layout (see <see cref="BlockChunkFormat"/>): header, an XxHash3 per 64 KiB block,
/// the content. So every read verifies each block before it hands it on, and a range asks the service for the header
/// and only the blocks it covers (HTTP Range). An object is byte for byte a chunk file: copied into a folder store's
/// shard it reads there too. The store's marker is the object <c>{prefix}store-id</c>.
/// </summary>
internal sealed class ObjectChunkStore
{
    private const string ChunksFolder = "chunks/";
    private const string MarkerName = "store-id";
    private const int MaxMarkerLength = 256;
    private const int MinBlockSize = 4 * 1024;
    private const int MaxBlockSize = 1024 * 1024;

    // A range hands its blocks on in batches this large, as the folder store does.
    private const int FlushBytes = BlockChunkFormat.ReadBatchSize;

    private readonly IObjectBucket _bucket;
    private readonly string _prefix;
    private readonly int _blockSize;
    private readonly KeyedGate<ChunkId> _gate = new();

    /// <param name="bucket">The container or bucket.</param>
    /// <param name="prefix">The key prefix, already normalized (<see cref="ObjectKeyPrefix.Normalize"/>).</param>
    /// <param name="blockSize">The block size of new objects.</param>
    public ObjectChunkStore(IObjectBucket bucket, string prefix, int blockSize = BlockChunkFormat.DefaultBlockSize)
    {
        _bucket = bucket;
        _prefix = prefix;
        _blockSize = blockSize;
    }

    /// <summary>The bucket and prefix, for messages.</summary>
    public string Location => _prefix.Length == 0 ? _bucket.Location : $"{_bucket.Location} (prefix '{_prefix}')";

    /// <summary>The object key of a chunk: only hexadecimal digits of the id follow the prefix.</summary>
    public string KeyOf(ChunkId id)
    {
        var hex = id.ToString();
        return $"{_prefix}{ChunksFolder}{hex.AsSpan(0, 2)}/{hex}";
    }

    /// <summary>The key of the store marker.</summary>
    public string MarkerKey => _prefix + MarkerName;

    public async ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _bucket.GetLastModifiedAsync(KeyOf(id), cancellationToken).ConfigureAwait(false) is not null;
    }

    public ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return _bucket.GetLastModifiedAsync(KeyOf(id), cancellationToken);
    }

    /// <remarks>
    /// Header and table are built in a small rented buffer and sent ahead of the caller's content, which is not copied.
    /// Writes of one chunk in this process take turns, so exactly one of them reports the write.
    /// </remarks>
    public async ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var blocks = BlockChunkFormat.BlockCount(content.Length, _blockSize);
        var headLength = (int)BlockChunkFormat.ContentStart(blocks);
        var head = ArrayPool<byte>.Shared.Rent(headLength);
        try
        {
            WriteHead(head.AsSpan(0, headLength), id, content.Span, _blockSize);
            using (await _gate.EnterAsync(id, cancellationToken).ConfigureAwait(false))
            {
                return await _bucket.CreateAsync(KeyOf(id), head.AsMemory(0, headLength), content, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    public async ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await _bucket.ReadAsync(KeyOf(id), 0, null, (body, token) => ReadWholeAsync(body, id, destination, token), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<int> ReadWholeAsync(Stream? body, ChunkId id, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (body is null) throw Missing(id);
        using var head = await ReadHeadAsync(body, id, available: null, cancellationToken).ConfigureAwait(false);
        if (destination.Length < head.Length)
        {
            throw new ArgumentException($"Chunk {id} holds {head.Length} bytes; the destination has room for {destination.Length}.", nameof(destination));
        }

        var target = destination[..(int)head.Length];
        try
        {
            for (var block = 0; block < head.BlockCount; block++)
            {
                var start = (int)((long)block * head.BlockSize);
                await ReadBlockAsync(body, target.Slice(start, Math.Min(head.BlockSize, target.Length - start)), id, head, block, cancellationToken).ConfigureAwait(false);
            }

            var extra = ArrayPool<byte>.Shared.Rent(1);
            try
            {
                if (await body.ReadAsync(extra.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) > 0)
                {
                    throw new DataCorruptionException($"Chunk {id} is damaged: its object in {Location} is longer than the {head.Length} bytes its header says.");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(extra);
            }
        }
        catch
        {
            // The caller's buffer may hold unverified bytes; clear them so nothing wrong can leak on.
            target.Span.Clear();
            throw;
        }

        return target.Length;
    }

    /// <remarks>
    /// A range from the chunk's first block is one request (header, table and the blocks it covers); any other range is
    /// two: the header and table, then only its blocks. A failure once bytes have been handed on is not retried (the
    /// writer cannot take them back): it is a <see cref="BlobErrorCode.StoreUnavailable"/> error.
    /// </remarks>
    public async ValueTask ReadRangeAsync(ChunkReference chunk, int offset, int count, PipeWriter destination, CancellationToken cancellationToken)
    {
        ChunkRanges.Validate(chunk, offset, count, destination);
        cancellationToken.ThrowIfCancellationRequested();
        var key = KeyOf(chunk.Id);
        var tableEnd = BlockChunkFormat.ContentStart(BlockChunkFormat.BlockCount(chunk.Length, _blockSize));
        if (count > 0 && offset < _blockSize)
        {
            var lastBlock = (offset + count - 1) / _blockSize;
            var bodyEnd = Math.Min(chunk.Length, ((long)lastBlock + 1) * _blockSize);
            var done = await _bucket.ReadAsync(
                key,
                0,
                tableEnd + bodyEnd,
                async (body, token) =>
                {
                    if (body is null) throw Missing(chunk.Id);
                    using var head = await ReadHeadAsync(body, chunk.Id, tableEnd + bodyEnd, token).ConfigureAwait(false);
                    ChunkRanges.ExpectLength(chunk, head.Length);
                    if (!head.Complete || head.BlockSize != _blockSize) return false;
                    await CopyBlocksAsync(body, head, chunk.Id, offset, count, destination, token).ConfigureAwait(false);
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
            if (done) return;
        }

        using var parsed = await ReadHeadOnlyAsync(key, chunk, cancellationToken).ConfigureAwait(false);
        if (count == 0) return;
        var first = offset / parsed.BlockSize;
        var last = (offset + count - 1) / parsed.BlockSize;
        var from = parsed.TableEnd + ((long)first * parsed.BlockSize);
        var to = parsed.TableEnd + Math.Min(parsed.Length, ((long)last + 1) * parsed.BlockSize);
        await _bucket.ReadAsync(
            key,
            from,
            to - from,
            async (body, token) =>
            {
                if (body is null) throw Missing(chunk.Id);
                await CopyBlocksAsync(body, parsed, chunk.Id, offset, count, destination, token).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads header and table alone, asking again at the stored block size when it is not this store's.</summary>
    private async ValueTask<Head> ReadHeadOnlyAsync(string key, ChunkReference chunk, CancellationToken cancellationToken)
    {
        var blockSize = _blockSize;
        for (var attempt = 0; ; attempt++)
        {
            var want = BlockChunkFormat.ContentStart(BlockChunkFormat.BlockCount(chunk.Length, blockSize));
            var head = await _bucket.ReadAsync(
                key,
                0,
                want,
                (body, token) => body is null ? throw Missing(chunk.Id) : ReadHeadAsync(body, chunk.Id, want, token),
                cancellationToken).ConfigureAwait(false);
            if (head.Length != chunk.Length || head.Complete) return Checked(head, chunk);
            blockSize = head.BlockSize;
            head.Dispose();
            if (attempt > 0) throw new DataCorruptionException($"Chunk {chunk.Id} has a damaged header: its block table could not be read whole.");
        }
    }

    private static Head Checked(Head head, ChunkReference chunk)
    {
        try
        {
            ChunkRanges.ExpectLength(chunk, head.Length);
            return head;
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Hands bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> on from a body that
    /// starts at the block holding <paramref name="offset"/>, each block verified before any of it is advanced.
    /// </summary>
    private async ValueTask CopyBlocksAsync(Stream body, Head head, ChunkId id, int offset, int count, PipeWriter destination, CancellationToken cancellationToken)
    {
        var end = (long)offset + count;
        var block = offset / head.BlockSize;
        var unflushed = 0;
        long handed = 0;
        byte[]? scratch = null;
        try
        {
            for (var blockStart = (long)block * head.BlockSize; blockStart < end; block++, blockStart += head.BlockSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var blockLength = (int)Math.Min(head.BlockSize, head.Length - blockStart);
                int part;
                if (blockStart >= offset && blockStart + blockLength <= end)
                {
                    // A whole block inside the range goes straight into the writer's memory, invisible until advanced.
                    await ReadBlockAsync(body, destination.GetMemory(blockLength)[..blockLength], id, head, block, cancellationToken).ConfigureAwait(false);
                    destination.Advance(blockLength);
                    part = blockLength;
                }
                else
                {
                    // A block the range cuts: verified whole, then only its part goes on.
                    scratch ??= ArrayPool<byte>.Shared.Rent(head.BlockSize);
                    await ReadBlockAsync(body, scratch.AsMemory(0, blockLength), id, head, block, cancellationToken).ConfigureAwait(false);
                    var from = (int)Math.Max(0, offset - blockStart);
                    var to = (int)Math.Min(blockLength, end - blockStart);
                    destination.Write(scratch.AsSpan(from, to - from));
                    part = to - from;
                }

                handed += part;
                unflushed += part;
                if (unflushed >= FlushBytes)
                {
                    unflushed = 0;
                    if ((await destination.FlushAsync(cancellationToken).ConfigureAwait(false)).IsCompleted) return;
                }
            }
        }
        catch (Exception ex) when (handed > 0 && ex is not BlobStorageException and not OperationCanceledException)
        {
            throw new BlobStorageException(BlobErrorCode.StoreUnavailable, $"Reading chunk {id} from {Location} failed after {handed} bytes of the range were handed on: {ex.Message}", ex);
        }
        finally
        {
            if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Reads one block into <paramref name="target"/> (exactly its length) and verifies it; on failure clears it.</summary>
    private async ValueTask ReadBlockAsync(Stream body, Memory<byte> target, ChunkId id, Head head, int block, CancellationToken cancellationToken)
    {
        var read = await body.ReadAtLeastAsync(target, target.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read != target.Length)
        {
            target.Span.Clear();
            throw new DataCorruptionException($"Chunk {id} is truncated: block {block} of its object in {Location} could not be read whole.");
        }

        if (BlockChecksum.Compute(target.Span) != head.BlockChecksum(block))
        {
            target.Span.Clear();
            throw new DataCorruptionException($"Chunk {id} fails its checksum in block {block}: its object in {Location} has changed since it was written.");
        }
    }

    /// <summary>
    /// Reads and checks header and table from the start of a body. When the body holds at most <paramref name="available"/>
    /// bytes and the table does not fit in them (the object's block size is not the one assumed), returns a head that is
    /// not <see cref="Head.Complete"/>, with its length and block size only.
    /// </summary>
    private async ValueTask<Head> ReadHeadAsync(Stream body, ChunkId id, long? available, CancellationToken cancellationToken)
    {
        var header = ArrayPool<byte>.Shared.Rent(BlockChunkFormat.HeaderSize);
        try
        {
            var read = await body.ReadAtLeastAsync(header.AsMemory(0, BlockChunkFormat.HeaderSize), BlockChunkFormat.HeaderSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < BlockChunkFormat.HeaderSize)
            {
                throw new DataCorruptionException($"Chunk {id} is truncated: its object in {Location} holds {read} bytes, fewer than its {BlockChunkFormat.HeaderSize}-byte header.");
            }

            if (!header.AsSpan(0, 8).SequenceEqual(BlockChunkFormat.Magic))
            {
                throw new DataCorruptionException($"Chunk {id} has a damaged header: its object in {Location} does not start with the chunk magic.");
            }

            var length = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
            var blockSize = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(16));
            if (length < 0 || length > int.MaxValue || blockSize is < MinBlockSize or > MaxBlockSize || !int.IsPow2(blockSize))
            {
                throw new DataCorruptionException($"Chunk {id} has a damaged header: it says {length} bytes in blocks of {blockSize}.");
            }

            var blocks = BlockChunkFormat.BlockCount(length, blockSize);
            var tableEnd = (int)BlockChunkFormat.ContentStart(blocks);
            if (available is { } limit && tableEnd > limit)
            {
                return new Head(null, length, blockSize, blocks);
            }

            var table = ArrayPool<byte>.Shared.Rent(tableEnd);
            try
            {
                header.AsSpan(0, BlockChunkFormat.HeaderSize).CopyTo(table);
                var tableLength = tableEnd - BlockChunkFormat.HeaderSize;
                if (await body.ReadAtLeastAsync(table.AsMemory(BlockChunkFormat.HeaderSize, tableLength), tableLength, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) != tableLength)
                {
                    throw new DataCorruptionException($"Chunk {id} is truncated: the block table of its object in {Location} could not be read whole.");
                }

                Span<byte> name = stackalloc byte[ChunkId.Size];
                id.WriteTo(name);
                if (!table.AsSpan(24, 8).SequenceEqual(name[..8]))
                {
                    throw new DataCorruptionException($"Chunk {id} is damaged or misplaced: the header of its object in {Location} names another chunk.");
                }

                if (BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(20)) != BlockChunkFormat.HeaderCheck(table.AsSpan(0, tableEnd)))
                {
                    throw new DataCorruptionException($"Chunk {id} has a damaged header: the header check of its object in {Location} fails.");
                }

                var head = new Head(table, length, blockSize, blocks);
                table = null;
                return head;
            }
            finally
            {
                if (table is not null) ArrayPool<byte>.Shared.Return(table);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <summary>Writes the <c>BSCHUNK2</c> header and block table of <paramref name="content"/> (exactly their length).</summary>
    private static void WriteHead(Span<byte> head, ChunkId id, ReadOnlySpan<byte> content, int blockSize)
    {
        var blocks = BlockChunkFormat.BlockCount(content.Length, blockSize);
        for (var b = 0; b < blocks; b++)
        {
            var from = (int)((long)b * blockSize);
            var slice = content.Slice(from, Math.Min(blockSize, content.Length - from));
            BinaryPrimitives.WriteUInt64LittleEndian(head[(BlockChunkFormat.HeaderSize + (b * 8))..], BlockChecksum.Compute(slice));
        }

        BlockChunkFormat.Magic.CopyTo(head);
        BinaryPrimitives.WriteInt64LittleEndian(head[8..], content.Length);
        BinaryPrimitives.WriteInt32LittleEndian(head[16..], blockSize);
        Span<byte> name = stackalloc byte[ChunkId.Size];
        id.WriteTo(name);
        name[..8].CopyTo(head[24..]);
        BinaryPrimitives.WriteUInt32LittleEndian(head[20..], BlockChunkFormat.HeaderCheck(head));
    }

    /// <remarks>Deletes of one chunk in this process take turns, so exactly one of them reports the delete.</remarks>
    public async ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using (await _gate.EnterAsync(id, cancellationToken).ConfigureAwait(false))
        {
            return await _bucket.DeleteAsync(KeyOf(id), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <remarks>Pages through the listing of <c>{prefix}chunks/</c>; keys that are not chunk keys are skipped.</remarks>
    public async IAsyncEnumerable<ChunkId> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var root = _prefix + ChunksFolder;
        await foreach (var key in _bucket.ListAsync(root, cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (key.Length == root.Length + 3 + (2 * ChunkId.Size)
                && key.StartsWith(root, StringComparison.Ordinal)
                && ChunkId.TryParse(key.AsSpan(root.Length + 3), out var id)
                && KeyOf(id) == key)
            {
                yield return id;
            }
        }
    }

    /// <summary>The id in the marker object; null when there is none.</summary>
    public async ValueTask<string?> ReadStoreIdAsync(CancellationToken cancellationToken)
    {
        return await _bucket.ReadAsync<string?>(
            MarkerKey,
            0,
            MaxMarkerLength,
            async (body, token) =>
            {
                if (body is null) return null;
                var buffer = new byte[MaxMarkerLength];
                var read = await body.ReadAtLeastAsync(buffer, MaxMarkerLength, throwOnEndOfStream: false, token).ConfigureAwait(false);
                var text = System.Text.Encoding.UTF8.GetString(buffer, 0, read).Trim();
                if (read == MaxMarkerLength || text.Length == 0 || !text.All(char.IsAsciiHexDigitLower))
                {
                    throw new BlobStorageException(
                        BlobErrorCode.StoreUnavailable,
                        $"The store marker '{MarkerKey}' in {_bucket.Location} is damaged: it should hold the store's id as lowercase hexadecimal digits. Write into it the id of the store whose chunks these are.");
                }

                return text;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the marker object unless one exists; one of another store is refused.</summary>
    public async ValueTask WriteStoreIdAsync(string storeId, CancellationToken cancellationToken)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(storeId + "\n");
        if (await _bucket.CreateAsync(MarkerKey, bytes, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false)) return;
        var existing = await ReadStoreIdAsync(cancellationToken).ConfigureAwait(false);
        if (existing != storeId)
        {
            throw new BlobStorageException(
                BlobErrorCode.StoreUnavailable,
                $"{Location} was claimed by store {existing} while this store ({storeId}) opened: two stores must not share a bucket and prefix. Give each its own.");
        }
    }

    private DataCorruptionException Missing(ChunkId id) => new($"Chunk {id} is missing from {Location}.");

    /// <summary>A chunk object's header and block table, checked; the table is rented and goes back on dispose.</summary>
    private sealed class Head(byte[]? table, long length, int blockSize, int blockCount) : IDisposable
    {
        private byte[]? _table = table;

        /// <summary>False when only length and block size were read (the table did not fit in what was asked for).</summary>
        public bool Complete => _table is not null;

        public long Length { get; } = length;

        public int BlockSize { get; } = blockSize;

        public int BlockCount { get; } = blockCount;

        public long TableEnd => BlockChunkFormat.ContentStart(BlockCount);

        public ulong BlockChecksum(int block) =>
            BinaryPrimitives.ReadUInt64LittleEndian(_table.AsSpan(BlockChunkFormat.HeaderSize + (block * 8)));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _table, null) is { } rented) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
