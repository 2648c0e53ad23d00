using System.Buffers;
using System.IO.Hashing;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using BlobStorage.Tiers;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Chunks written as their bytes arrive (see <see cref="IChunkStreamer"/>): a <c>BSCHUNK2</c> temporary file whose
/// table has room for the blocks of the length the writer expects, each block's checksum taken as its bytes pass;
/// naming it writes the header and then follows the same protocol as <see cref="IChunkStager.StageAsync"/> (claim,
/// flush, rename, flush the shard folder).
/// </summary>
public sealed partial class FileSystemChunkStore : IChunkStreamer
{
    // A draft of another length than it expected is copied into a file of the right layout this many bytes at a time.
    private const int RelocationSliceSize = 1024 * 1024;

    /// <inheritdoc />
    bool IChunkStreamer.CanStream(StorageClass storageClass) => _blockSize > 0 && _treatments.CompressionOf(storageClass) == ChunkCompression.None;

    /// <inheritdoc />
    ChunkDraft IChunkStreamer.Begin(StorageClass storageClass, int expectedLength)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(expectedLength);
        if (!((IChunkStreamer)this).CanStream(storageClass))
        {
            throw new InvalidOperationException($"Chunks of {storageClass} are compressed at rest and written only whole.");
        }

        var temp = NewTemporaryPath();
        try
        {
            return new Draft(this, temp, expectedLength);
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            throw StorageFailures.From(ex, $"starting a chunk in '{_root}'");
        }
    }

    private sealed class Draft : ChunkDraft
    {
        private readonly FileSystemChunkStore _store;
        private readonly int _blockSize;
        private string _temp;
        private ChunkFileSystem.WritableFile? _file;

        // The length the file's layout is for: its table has room for this length's blocks, and the content starts after them.
        private long _laidOutFor;
        private ulong[] _checksums;

        // The checksum of the last block while it is not yet full.
        private XxHash3? _openBlock;
        private long _length;
        private bool _spent;

        public Draft(FileSystemChunkStore store, string temp, int expectedLength)
        {
            _store = store;
            _blockSize = store._blockSize;
            _temp = temp;
            _laidOutFor = expectedLength;
            _checksums = new ulong[Math.Max(1, BlockChunkFormat.BlockCount(expectedLength, _blockSize))];
            _file = store._files.CreateNew(temp, BlockChunkFormat.FileLength(expectedLength, _blockSize));
        }

        public override long Length => _length;

        private long ContentStart => BlockChunkFormat.ContentStart(BlockChunkFormat.BlockCount(_laidOutFor, _blockSize));

        public override void Append(ReadOnlyMemory<byte> content)
        {
            ObjectDisposedException.ThrowIf(_spent, this);
            if (content.IsEmpty) return;
            var span = content.Span;
            for (var done = 0; done < span.Length;)
            {
                var at = _length + done;
                var block = (int)(at / _blockSize);
                var inBlock = (int)(at % _blockSize);
                if (inBlock == 0 && span.Length - done >= _blockSize)
                {
                    SetChecksum(block, BlockChecksum.Compute(span.Slice(done, _blockSize)));
                    done += _blockSize;
                    continue;
                }

                var take = Math.Min(_blockSize - inBlock, span.Length - done);
                (_openBlock ??= new XxHash3()).Append(span.Slice(done, take));
                done += take;
                if (inBlock + take == _blockSize)
                {
                    SetChecksum(block, _openBlock.GetCurrentHashAsUInt64());
                    _openBlock.Reset();
                }
            }

            try
            {
                _file!.Write([content], ContentStart + _length);
            }
            catch (Exception ex) when (StorageFailures.IsIO(ex))
            {
                throw StorageFailures.From(ex, $"writing a chunk to '{_store._root}'");
            }

            _length += content.Length;
        }

        public override int ReadBack(long offset, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_spent, this);
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            var count = (int)Math.Min(destination.Length, Math.Max(0, _length - offset));
            try
            {
                using var file = _store._files.OpenRead(_temp);
                return ReadExactly(file, destination[..count], ContentStart + offset);
            }
            catch (Exception ex) when (StorageFailures.IsIO(ex))
            {
                throw StorageFailures.From(ex, $"reading back a chunk in '{_store._root}'");
            }
        }

        public override async ValueTask<Task?> CommitAsync(ChunkId id, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_spent, this);
            _spent = true;
            var path = _store.GetPath(id);
            TaskCompletionSource? mine;
            try
            {
                mine = await _store.ClaimAsync(id, path, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Discard();
                throw;
            }

            if (mine is null)
            {
                // Already stored durably: these bytes are the same (the id names them), so they are dropped. A disk
                // that cannot even remove a file fails the write, as it would have failed writing the chunk.
                _file!.Dispose();
                _file = null;
                try
                {
                    _store._files.DeleteFile(_temp);
                }
                catch (Exception ex) when (StorageFailures.IsIO(ex))
                {
                    throw _store.Writing(id, ex);
                }

                return null;
            }

            var header = Array.Empty<byte>();
            try
            {
                if (_length % _blockSize != 0) SetChecksum((int)(_length / _blockSize), _openBlock!.GetCurrentHashAsUInt64());
                if (_length != _laidOutFor) Relocate();
                var blocks = BlockChunkFormat.BlockCount(_length, _blockSize);
                var headerLength = (int)BlockChunkFormat.ContentStart(blocks);
                header = ArrayPool<byte>.Shared.Rent(headerLength);
                for (var b = 0; b < blocks; b++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(BlockChunkFormat.HeaderSize + (b * 8)), _checksums[b]);
                }

                BlockChunkFormat.CompleteHeader(header.AsSpan(0, headerLength), id, _length, _blockSize);
                _file!.Write([header.AsMemory(0, headerLength)], 0);
                CrashPoints.Reach(CrashPoints.ChunkTempWritten);
            }
            catch (Exception ex)
            {
                Discard();
                _store.Release(id, mine);
                if (StorageFailures.IsIO(ex)) throw _store.Writing(id, ex);
                throw;
            }
            finally
            {
                if (header.Length > 0) ArrayPool<byte>.Shared.Return(header);
            }

            var file = _file!;
            _file = null;
            return _store.FlushLater(id, path, _temp, file, mine);
        }

        public override void Dispose()
        {
            if (_spent) return;
            _spent = true;
            Discard();
        }

        private void SetChecksum(int block, ulong checksum)
        {
            if (block >= _checksums.Length) Array.Resize(ref _checksums, Math.Max(block + 1, _checksums.Length * 2));
            _checksums[block] = checksum;
        }

        /// <summary>Copies the content into a new temporary file laid out for its actual length, and drops the old one.</summary>
        private void Relocate()
        {
            var temp = _store.NewTemporaryPath();
            var created = _store._files.CreateNew(temp, BlockChunkFormat.FileLength(_length, _blockSize));
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(RelocationSliceSize, Math.Max(1, _length)));
            try
            {
                var to = BlockChunkFormat.ContentStart(BlockChunkFormat.BlockCount(_length, _blockSize));
                using var old = _store._files.OpenRead(_temp);
                for (long offset = 0; offset < _length;)
                {
                    var slice = buffer.AsSpan(0, (int)Math.Min(buffer.Length, _length - offset));
                    if (ReadExactly(old, slice, ContentStart + offset) != slice.Length)
                    {
                        throw new IOException($"The temporary file '{_temp}' is shorter than the {_length} bytes written to it.");
                    }

                    created.Write([buffer.AsMemory(0, slice.Length)], to + offset);
                    offset += slice.Length;
                }
            }
            catch
            {
                created.Dispose();
                _store.TryDelete(temp);
                throw;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _file!.Dispose();
            _file = created;
            var replaced = _temp;
            _temp = temp;
            _laidOutFor = _length;
            _store._files.DeleteFile(replaced);
        }

        private void Discard()
        {
            _file?.Dispose();
            _file = null;
            _store.TryDelete(_temp);
        }
    }
}
