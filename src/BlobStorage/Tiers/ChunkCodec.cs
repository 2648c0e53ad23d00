using System.IO.Compression;

namespace BlobStorage.Tiers;

/// <summary>
/// Compression of a chunk's bytes at rest. Brotli at quality 1 with a 4 MiB window: measured by the
/// <c>compression</c> benchmark command against higher Brotli qualities, ZLib and Zstandard (ZstdSharp.Port),
/// it compresses text at hundreds of MB/s, so an archive upload is not held back by its compression, and it
/// gives up on random bytes at several GB/s; see the README for the figures.
/// </summary>
internal static class ChunkCodec
{
    /// <summary>The codec's number in a compressed chunk file's header.</summary>
    public const byte BrotliId = 1;

    private const int BrotliQuality = 1;
    private const int BrotliWindow = 22;

    /// <summary>A compressed form is kept only when it is at most 7/8 of the raw size.</summary>
    public static int MaxUsefulLength(int rawLength) => rawLength - (rawLength / 8) - 1;

    /// <summary>
    /// Compresses <paramref name="raw"/> into <paramref name="destination"/> (at least <see cref="MaxUsefulLength"/> long)
    /// and returns its length, or -1 when compression would not save an eighth of the chunk.
    /// </summary>
    public static int TryCompress(ChunkCompression compression, ReadOnlySpan<byte> raw, Span<byte> destination, out byte codec)
    {
        codec = 0;
        if (compression != ChunkCompression.Brotli || raw.Length < 64) return -1;
        var limit = MaxUsefulLength(raw.Length);
        if (limit <= 0) return -1;

        // Brotli gives up once the output would pass the limit, so an incompressible chunk costs little.
        if (!BrotliEncoder.TryCompress(raw, destination[..limit], out var written, BrotliQuality, BrotliWindow)) return -1;
        codec = BrotliId;
        return written;
    }

    /// <summary>Decompresses into <paramref name="destination"/>; false when the bytes are not a valid stream of the codec or do not fill it exactly.</summary>
    public static bool TryDecompress(byte codec, ReadOnlySpan<byte> stored, Span<byte> destination)
    {
        if (codec != BrotliId) return false;
        using var decoder = new BrotliDecoder();
        var status = decoder.Decompress(stored, destination, out var consumed, out var written);
        return status == System.Buffers.OperationStatus.Done && consumed == stored.Length && written == destination.Length;
    }
}
