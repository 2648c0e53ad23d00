using System.Security.Cryptography;

namespace BlobStorage.CrashHost;

/// <summary>
/// The bytes of every version the workload writes, a function of (seed, operation index) alone.
/// About a third of the 64 KiB blocks come from a small pool shared by every seed, so chunks are
/// deduplicated across blobs, overwrites and runs, the case where a lost or early-collected chunk hurts.
/// </summary>
internal static class Content
{
    public const int Block = 64 * 1024;
    public const int MaxSize = 300 * 1024;
    private const int SharedBlocks = 12;

    private static readonly byte[][] Shared = [.. Enumerable.Range(0, SharedBlocks).Select(k => Bytes(new Random(0x5EED00 + k), Block))];

    /// <summary>A blob's content: empty, tiny, whole blocks, or anything up to 300 KiB.</summary>
    public static byte[] Make(int seed, int operation)
    {
        var random = new Random(Mix(seed, operation));
        var size = random.Next(10) switch
        {
            0 => random.Next(2) == 0 ? 0 : random.Next(1, 200),
            1 or 2 => Block * random.Next(1, 5),
            _ => random.Next(0, MaxSize + 1),
        };
        return Fill(random, size);
    }

    /// <summary>A multipart upload's content and its part sizes: 2 or 3 parts, all but the last at least one block.</summary>
    public static (byte[] Content, int[] PartSizes) MakeMultipart(int seed, int operation)
    {
        var random = new Random(Mix(seed, operation));
        var sizes = new int[random.Next(2, 4)];
        for (var i = 0; i < sizes.Length; i++)
        {
            sizes[i] = i < sizes.Length - 1 ? Block + random.Next(0, Block + 1) : random.Next(1, 100 * 1024);
        }

        return (Fill(random, sizes.Sum()), sizes);
    }

    /// <summary>Bytes that are uploaded as a part and then replaced, so they must never be read back.</summary>
    public static byte[] Discarded(int seed, int operation, int part) => Bytes(new Random(Mix(~seed, (operation * 16) + part)), Block + 1);

    public static string Sha256(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private static byte[] Fill(Random random, int size)
    {
        var content = new byte[size];
        for (var offset = 0; offset < size; offset += Block)
        {
            var span = content.AsSpan(offset, Math.Min(Block, size - offset));
            if (random.Next(3) == 0) Shared[random.Next(SharedBlocks)].AsSpan(0, span.Length).CopyTo(span);
            else random.NextBytes(span);
        }

        return content;
    }

    private static byte[] Bytes(Random random, int size)
    {
        var bytes = new byte[size];
        random.NextBytes(bytes);
        return bytes;
    }

    // A fixed mixer (not HashCode, which is randomized per process) so that every run derives the same bytes.
    private static int Mix(int seed, int operation)
    {
        var x = ((ulong)(uint)seed << 32) | (uint)operation;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return (int)x;
    }
}
