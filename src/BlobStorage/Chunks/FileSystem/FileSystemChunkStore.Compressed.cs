using System.Buffers;
using System.Buffers.Binary;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using BlobStorage.Tiers;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Chunks compressed at rest (format <c>BSCHUNKZ</c>): a 48-byte header (magic, stored length, raw length,
/// XxHash3 of the stored bytes, first 8 bytes of the id, codec) and the compressed bytes. A read checks the
/// header, the checksum of the stored bytes, that they decompress and that they decompress to exactly the raw
/// length: a damaged file is a <see cref="DataCorruptionException"/>, never wrong bytes.
/// </summary>
public sealed partial class FileSystemChunkStore : ITieredChunkStore
{
    internal const int CompressedHeaderSize = 48;

    internal static ReadOnlySpan<byte> CompressedMagic => "BSCHUNKZ"u8;

    /// <inheritdoc />
    StorageClassTreatments ITieredChunkStore.Treatments
    {
        get => _treatments;
        set => _treatments = value ?? throw new ArgumentNullException(nameof(value));
    }

    private StorageClassTreatments _treatments = StorageClassTreatments.Default;

    /// <inheritdoc />
    ValueTask<bool> ITieredChunkStore.WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken) =>
        WriteCoreAsync(id, content, _treatments.CompressionOf(storageClass), cancellationToken);

    /// <inheritdoc />
    ValueTask<Task?> ITieredChunkStore.StageAsync(ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken) =>
        StageCoreAsync(id, content, _treatments.CompressionOf(storageClass), cancellationToken);

    /// <inheritdoc />
    async ValueTask<bool> ITieredChunkStore.RewriteAsync(ChunkId id, ReadOnlyMemory<byte> content, StorageClass storageClass, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var compression = _treatments.CompressionOf(storageClass);
        var path = GetPath(id);
        var mine = await ClaimForRewriteAsync(id, cancellationToken).ConfigureAwait(false);
        try
        {
            var compressed = IsCompressed(path);
            if (compressed == (compression != ChunkCompression.None))
            {
                Release(id, mine);
                return false;
            }

            var temp = WriteTemporary(id, content, compression, mine, out var file);
            MakeDurable(id, path, temp, file, mine);
            return true;
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            throw Writing(id, ex);
        }
    }

    /// <summary>Waits for any write of the chunk in flight, then claims it whether or not it is stored.</summary>
    private async ValueTask<TaskCompletionSource> ClaimForRewriteAsync(ChunkId id, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task inFlight;
            lock (_writesGate)
            {
                if (!_writing.TryGetValue(id, out var other))
                {
                    var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _writing[id] = mine;
                    return mine;
                }

                inFlight = other.Task;
            }

            await inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True when the chunk's file is in the compressed format (false when raw, missing or unreadable: a rewrite then makes it whole).</summary>
    private bool IsCompressed(string path)
    {
        try
        {
            using var file = _files.OpenRead(path);
            Span<byte> magic = stackalloc byte[8];
            return ReadExactly(file, magic, 0) == magic.Length && magic.SequenceEqual(CompressedMagic);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes the chunk compressed to a new temporary file, left open for its flush; returns null (and writes
    /// nothing) when compression would not save an eighth of it. On failure releases the claim.
    /// </summary>
    private string? TryWriteCompressedTemporary(ChunkId id, ReadOnlyMemory<byte> content, ChunkCompression compression, TaskCompletionSource mine, out ChunkFileSystem.WritableFile file)
    {
        file = null!;
        var buffer = ArrayPool<byte>.Shared.Rent(CompressedHeaderSize + Math.Max(ChunkCodec.MaxUsefulLength(content.Length), 1));
        string? temp = null;
        ChunkFileSystem.WritableFile? created = null;
        try
        {
            var length = ChunkCodec.TryCompress(compression, content.Span, buffer.AsSpan(CompressedHeaderSize), out var codec);
            if (length < 0) return null;

            var header = buffer.AsSpan(0, CompressedHeaderSize);
            CompressedMagic.CopyTo(header);
            BinaryPrimitives.WriteInt64LittleEndian(header[8..], length);
            BinaryPrimitives.WriteInt64LittleEndian(header[16..], content.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(header[24..], BlockChecksum.Compute(buffer.AsSpan(CompressedHeaderSize, length)));
            Span<byte> name = stackalloc byte[ChunkId.Size];
            id.WriteTo(name);
            name[..8].CopyTo(header[32..]);
            header[40] = codec;
            header[41..].Clear();

            temp = NewTemporaryPath();
            created = _files.CreateNew(temp, CompressedHeaderSize + length);
            created.Write([buffer.AsMemory(0, CompressedHeaderSize + length)], 0);
            CrashPoints.Reach(CrashPoints.ChunkTempWritten);
            file = created;
            return temp;
        }
        catch
        {
            created?.Dispose();
            if (temp is not null) TryDelete(temp);
            Release(id, mine);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads and verifies a compressed chunk into <paramref name="destination"/>; returns its raw length.</summary>
    private int ReadCompressed(ChunkId id, ChunkFileSystem.ReadableFile file, long fileLength, Span<byte> destination)
    {
        Span<byte> header = stackalloc byte[CompressedHeaderSize];
        int headerRead;
        try
        {
            headerRead = ReadExactly(file, header, 0);
        }
        catch (IOException ex)
        {
            throw Unreadable(id, ex);
        }

        if (headerRead != CompressedHeaderSize)
        {
            throw new DataCorruptionException($"Chunk {id} is truncated: the file holds {fileLength} bytes, fewer than its {CompressedHeaderSize}-byte compressed header.");
        }

        Span<byte> expectedName = stackalloc byte[ChunkId.Size];
        id.WriteTo(expectedName);
        if (!header[32..40].SequenceEqual(expectedName[..8]))
        {
            throw new DataCorruptionException($"Chunk {id} is damaged or misplaced: its header names another chunk.");
        }

        var stored = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        var raw = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        var checksum = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        var codec = header[40];
        if (stored < 0 || stored > int.MaxValue || fileLength != CompressedHeaderSize + stored)
        {
            throw new DataCorruptionException($"Chunk {id} is truncated or damaged: its header says {stored} compressed bytes, the file holds {fileLength - CompressedHeaderSize}.");
        }

        if (raw < 0 || raw > int.MaxValue)
        {
            throw new DataCorruptionException($"Chunk {id} has a damaged header: it gives {raw} as the chunk's length.");
        }

        if (destination.Length < raw)
        {
            throw new ArgumentException($"Chunk {id} holds {raw} bytes; the destination has room for {destination.Length}.", nameof(destination));
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(stored, 1));
        try
        {
            var content = buffer.AsSpan(0, (int)stored);
            int read;
            try
            {
                read = ReadExactly(file, content, CompressedHeaderSize);
            }
            catch (IOException ex)
            {
                throw Unreadable(id, ex);
            }

            if (read != stored)
            {
                throw new DataCorruptionException($"Chunk {id} is truncated: {read} of {stored} compressed bytes could be read.");
            }

            if (BlockChecksum.Compute(content) != checksum)
            {
                throw new DataCorruptionException($"Chunk {id} fails its checksum: its stored (compressed) bytes have changed since it was written.");
            }

            var output = destination[..(int)raw];
            bool decompressed;
            try
            {
                decompressed = ChunkCodec.TryDecompress(codec, content, output);
            }
            catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or IOException)
            {
                output.Clear();
                throw new DataCorruptionException($"Chunk {id} could not be decompressed: {ex.Message}", ex);
            }

            if (!decompressed)
            {
                // The caller's buffer may hold part of a bad decompression; clear it so nothing wrong can leak on.
                output.Clear();
                throw new DataCorruptionException(codec == ChunkCodec.BrotliId
                    ? $"Chunk {id} is damaged: its compressed bytes do not decompress to the {raw} bytes its header gives."
                    : $"Chunk {id} has a damaged header: it names compression codec {codec}, which this version does not know.");
            }

            return (int)raw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
