using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// The checksum of a block of a <c>BSCHUNK2</c> file, of a compressed chunk and of inline content in the metadata stores:
/// XXH3-64 with seed 0, the value <see cref="XxHash3.HashToUInt64(ReadOnlySpan{byte}, long)"/> gives, computed with
/// 512-bit vectors where the processor has them and 256-bit ones where it has AVX2 only.
/// </summary>
/// <remarks>
/// Verifying each block is a third of a read from the page cache. System.IO.Hashing accumulates a 64-byte stripe in two
/// 256-bit halves; XXH3's eight 64-bit accumulators fit one 512-bit register, so with AVX-512 a stripe is one load, one
/// multiply, one shuffle and two adds (on the machine this was measured on, Zen 5, about 1.7 times the speed; see
/// <c>BlockChecksumBenchmarks</c>). With AVX2 only, a stripe is two halves, as System.IO.Hashing's, but in code compiled
/// optimized from its first call: System.IO.Hashing is compiled unoptimized first, and in a fresh process without
/// AVX-512 its accumulate loop ran unoptimized or instrumented through the first hundreds of reads of 1 MiB blobs.
/// Inputs of 240 bytes or fewer, and processors with neither, go to System.IO.Hashing. The tests compare every path
/// with it on every length up to several blocks, so a stored checksum never depends on which path wrote it.
/// </remarks>
internal static class BlockChecksum
{
    private const int StripeLength = 64;
    private const int SecretLength = 192;
    private const int SecretConsumeRate = 8;
    private const int StripesPerBlock = (SecretLength - StripeLength) / SecretConsumeRate;
    private const int BlockLength = StripeLength * StripesPerBlock;
    private const int LastStripeSecretOffset = SecretLength - StripeLength - 7;
    private const int MergeSecretOffset = 11;
    private const int MidSizeMax = 240;

    private const ulong Prime32_1 = 0x9E3779B1;
    private const ulong Prime32_2 = 0x85EBCA77;
    private const ulong Prime32_3 = 0xC2B2AE3D;
    private const ulong Prime64_1 = 0x9E3779B185EBCA87;
    private const ulong Prime64_2 = 0xC2B2AE3D27D4EB4F;
    private const ulong Prime64_3 = 0x165667B19E3779F9;
    private const ulong Prime64_4 = 0x85EBCA77C2B2AE63;
    private const ulong Prime64_5 = 0x27D4EB2F165667C5;
    private const ulong AvalancheMultiplier = 0x165667919E3779F9;

    /// <summary>Whether this process takes the 512-bit path (for the tests and the benchmark).</summary>
    internal static bool IsVectorized => Avx512F.IsSupported && Avx512DQ.IsSupported && Vector512.IsHardwareAccelerated && BitConverter.IsLittleEndian;

    /// <summary>Whether the 256-bit path can run here (the tests run it wherever it can; the store takes it without AVX-512).</summary>
    internal static bool IsVectorized256 => Avx2.IsSupported && Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian;

    /// <summary>XXH3's default secret, from its specification.</summary>
    private static ReadOnlySpan<byte> Secret =>
    [
        0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
        0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
        0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
        0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
        0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
        0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
        0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
        0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
        0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
        0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
        0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
        0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
    ];

    /// <summary>XXH3-64 (seed 0) of <paramref name="data"/>.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data) =>
        data.Length <= MidSizeMax ? XxHash3.HashToUInt64(data)
        : IsVectorized ? HashLong(data)
        : IsVectorized256 ? HashLong256(data)
        : XxHash3.HashToUInt64(data);

    /// <summary>
    /// Copies <paramref name="source"/> to the start of <paramref name="destination"/> and returns XXH3-64 (seed 0) of the
    /// bytes copied: on the vector paths in one pass, each stripe hashed from the registers it is stored from, so the
    /// bytes checked are the bytes written.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="source"/>.</exception>
    public static ulong CopyAndCompute(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        if (source.Length > MidSizeMax && IsVectorized) return HashLong(source, new CopyTo(ref MemoryMarshal.GetReference(destination)));
        if (source.Length > MidSizeMax && IsVectorized256) return HashLong256(source, new CopyTo(ref MemoryMarshal.GetReference(destination)));
        source.CopyTo(destination);
        return XxHash3.HashToUInt64(destination[..source.Length]);
    }

    /// <summary>As <see cref="CopyAndCompute"/>, on the 256-bit path whatever the processor has beyond AVX2 (for the tests).</summary>
    internal static ulong CopyAndCompute256(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        return HashLong256(source, new CopyTo(ref MemoryMarshal.GetReference(destination)));
    }

    /// <summary>XXH3's long-input path (more than 240 bytes) with the default secret, one stripe per 512-bit register.</summary>
    internal static ulong HashLong(ReadOnlySpan<byte> data) => HashLong(data, default(Discard));

    /// <summary>
    /// <see cref="HashLong(ReadOnlySpan{byte})"/>, handing every stripe it loads to <paramref name="stripes"/>; the
    /// stripes together cover every byte (the last overlaps the one before).
    /// </summary>
    /// <remarks>
    /// Compiled optimized from its first call: chunk files' blocks and inline content are checked here, and
    /// unoptimized code (a process's first calls, before tiering) calls the lane helpers (<c>Accumulate</c>,
    /// <c>Scramble</c>) instead of inlining them, with every vector kept in memory.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong HashLong<TStripes>(ReadOnlySpan<byte> data, TStripes stripes)
        where TStripes : struct, IStripeTarget, allows ref struct
    {
        ref var input = ref MemoryMarshal.GetReference(data);
        ref var secret = ref MemoryMarshal.GetReference(Secret);
        var length = (nuint)data.Length;
        var acc = Vector512.Create(Prime32_3, Prime64_1, Prime64_2, Prime64_3, Prime64_4, Prime32_2, Prime64_5, Prime32_1);
        var scrambleKey = Vector512.LoadUnsafe(ref secret, SecretLength - StripeLength).AsUInt64();
        var blocks = (length - 1) / BlockLength;
        for (nuint b = 0; b < blocks; b++)
        {
            var blockOffset = b * BlockLength;
            ref var block = ref Unsafe.Add(ref input, blockOffset);
            for (nuint s = 0; s < StripesPerBlock; s++)
            {
                var stripe = Vector512.LoadUnsafe(ref block, s * StripeLength);
                stripes.Store(stripe, blockOffset + (s * StripeLength));
                acc = Accumulate(acc, stripe, Vector512.LoadUnsafe(ref secret, s * SecretConsumeRate));
            }

            acc = Scramble(acc, scrambleKey);
        }

        var tailOffset = blocks * BlockLength;
        ref var tail = ref Unsafe.Add(ref input, tailOffset);
        var tailStripes = (length - 1 - tailOffset) / StripeLength;
        for (nuint s = 0; s < tailStripes; s++)
        {
            var stripe = Vector512.LoadUnsafe(ref tail, s * StripeLength);
            stripes.Store(stripe, tailOffset + (s * StripeLength));
            acc = Accumulate(acc, stripe, Vector512.LoadUnsafe(ref secret, s * SecretConsumeRate));
        }

        var last = Vector512.LoadUnsafe(ref input, length - StripeLength);
        stripes.Store(last, length - StripeLength);
        acc = Accumulate(acc, last, Vector512.LoadUnsafe(ref secret, LastStripeSecretOffset));

        Span<ulong> lanes = stackalloc ulong[8];
        acc.StoreUnsafe(ref MemoryMarshal.GetReference(lanes));
        return Merge(lanes, data.Length);
    }

    /// <summary>XXH3's long-input path (more than 240 bytes) with the default secret, each stripe in two 256-bit halves.</summary>
    internal static ulong HashLong256(ReadOnlySpan<byte> data) => HashLong256(data, default(Discard));

    /// <summary>
    /// <see cref="HashLong256(ReadOnlySpan{byte})"/>, handing every half stripe it loads to <paramref name="stripes"/>; the
    /// halves together cover every byte (the last stripe overlaps the one before).
    /// </summary>
    /// <remarks>Compiled optimized from its first call, as <see cref="HashLong{TStripes}"/> is.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong HashLong256<TStripes>(ReadOnlySpan<byte> data, TStripes stripes)
        where TStripes : struct, IStripeTarget, allows ref struct
    {
        const int Half = StripeLength / 2;
        ref var input = ref MemoryMarshal.GetReference(data);
        ref var secret = ref MemoryMarshal.GetReference(Secret);
        var length = (nuint)data.Length;
        var low = Vector256.Create(Prime32_3, Prime64_1, Prime64_2, Prime64_3);
        var high = Vector256.Create(Prime64_4, Prime32_2, Prime64_5, Prime32_1);
        var scrambleLow = Vector256.LoadUnsafe(ref secret, SecretLength - StripeLength).AsUInt64();
        var scrambleHigh = Vector256.LoadUnsafe(ref secret, SecretLength - StripeLength + Half).AsUInt64();
        var blocks = (length - 1) / BlockLength;
        for (nuint b = 0; b < blocks; b++)
        {
            var blockOffset = b * BlockLength;
            ref var block = ref Unsafe.Add(ref input, blockOffset);
            for (nuint s = 0; s < StripesPerBlock; s++)
            {
                var first = Vector256.LoadUnsafe(ref block, s * StripeLength);
                var second = Vector256.LoadUnsafe(ref block, (s * StripeLength) + Half);
                stripes.Store(first, blockOffset + (s * StripeLength));
                stripes.Store(second, blockOffset + (s * StripeLength) + Half);
                low = Accumulate(low, first, Vector256.LoadUnsafe(ref secret, s * SecretConsumeRate));
                high = Accumulate(high, second, Vector256.LoadUnsafe(ref secret, (s * SecretConsumeRate) + Half));
            }

            low = Scramble(low, scrambleLow);
            high = Scramble(high, scrambleHigh);
        }

        var tailOffset = blocks * BlockLength;
        ref var tail = ref Unsafe.Add(ref input, tailOffset);
        var tailStripes = (length - 1 - tailOffset) / StripeLength;
        for (nuint s = 0; s < tailStripes; s++)
        {
            var first = Vector256.LoadUnsafe(ref tail, s * StripeLength);
            var second = Vector256.LoadUnsafe(ref tail, (s * StripeLength) + Half);
            stripes.Store(first, tailOffset + (s * StripeLength));
            stripes.Store(second, tailOffset + (s * StripeLength) + Half);
            low = Accumulate(low, first, Vector256.LoadUnsafe(ref secret, s * SecretConsumeRate));
            high = Accumulate(high, second, Vector256.LoadUnsafe(ref secret, (s * SecretConsumeRate) + Half));
        }

        var lastFirst = Vector256.LoadUnsafe(ref input, length - StripeLength);
        var lastSecond = Vector256.LoadUnsafe(ref input, length - Half);
        stripes.Store(lastFirst, length - StripeLength);
        stripes.Store(lastSecond, length - Half);
        low = Accumulate(low, lastFirst, Vector256.LoadUnsafe(ref secret, LastStripeSecretOffset));
        high = Accumulate(high, lastSecond, Vector256.LoadUnsafe(ref secret, LastStripeSecretOffset + Half));

        Span<ulong> lanes = stackalloc ulong[8];
        low.StoreUnsafe(ref MemoryMarshal.GetReference(lanes));
        high.StoreUnsafe(ref MemoryMarshal.GetReference(lanes), 4);
        return Merge(lanes, data.Length);
    }

    /// <summary>XXH3's merge of the eight accumulators and its final avalanche.</summary>
    private static ulong Merge(ReadOnlySpan<ulong> acc, int length)
    {
        var merge = Secret[MergeSecretOffset..];
        var result = (ulong)length * Prime64_1;
        for (var i = 0; i < 4; i++)
        {
            result += MultiplyFold(
                acc[2 * i] ^ BinaryPrimitives.ReadUInt64LittleEndian(merge[(16 * i)..]),
                acc[(2 * i) + 1] ^ BinaryPrimitives.ReadUInt64LittleEndian(merge[((16 * i) + 8)..]));
        }

        result ^= result >> 37;
        result *= AvalancheMultiplier;
        return result ^ (result >> 32);
    }

    /// <summary>Where <see cref="HashLong{TStripes}"/> puts each stripe it loads, and <see cref="HashLong256{TStripes}"/> each half.</summary>
    private interface IStripeTarget
    {
        void Store(Vector512<byte> stripe, nuint offset);

        void Store(Vector256<byte> half, nuint offset);
    }

    /// <summary>Nowhere: the checksum alone.</summary>
    private readonly struct Discard : IStripeTarget
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<byte> stripe, nuint offset)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<byte> half, nuint offset)
        {
        }
    }

    /// <summary>At the same offset of a destination at least as long as the input.</summary>
    private readonly ref struct CopyTo(ref byte destination) : IStripeTarget
    {
        private readonly ref byte _destination = ref destination;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<byte> stripe, nuint offset) => stripe.StoreUnsafe(ref _destination, offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector256<byte> half, nuint offset) => half.StoreUnsafe(ref _destination, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Accumulate(Vector512<ulong> acc, Vector512<byte> stripe, Vector512<byte> key)
    {
        var keyed = (stripe ^ key).AsUInt64();

        // Each lane gains the product of its key-mixed halves and its neighbour's raw value (lanes 0-1, 2-3, … swapped).
        var product = Avx512F.Multiply(keyed.AsUInt32(), Avx512F.ShiftRightLogical(keyed, 32).AsUInt32());
        var swapped = Avx512F.Shuffle(stripe.AsUInt32(), 0b01_00_11_10).AsUInt64();
        return acc + (product + swapped);
    }

    /// <summary>As the 512-bit <see cref="Accumulate(Vector512{ulong}, Vector512{byte}, Vector512{byte})"/>, on half a stripe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Accumulate(Vector256<ulong> acc, Vector256<byte> half, Vector256<byte> key)
    {
        var keyed = (half ^ key).AsUInt64();
        var product = Avx2.Multiply(keyed.AsUInt32(), Avx2.ShiftRightLogical(keyed, 32).AsUInt32());
        var swapped = Avx2.Shuffle(half.AsUInt32(), 0b01_00_11_10).AsUInt64();
        return acc + (product + swapped);
    }

    /// <summary>As the 512-bit <see cref="Scramble(Vector512{ulong}, Vector512{ulong})"/>; AVX2 has no 64-bit multiply, so two of 32 by 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Scramble(Vector256<ulong> acc, Vector256<ulong> key)
    {
        acc ^= Avx2.ShiftRightLogical(acc, 47);
        acc ^= key;
        var prime = Vector256.Create((uint)Prime32_1);
        var low = Avx2.Multiply(acc.AsUInt32(), prime);
        var high = Avx2.Multiply(Avx2.ShiftRightLogical(acc, 32).AsUInt32(), prime);
        return low + Avx2.ShiftLeftLogical(high, 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Scramble(Vector512<ulong> acc, Vector512<ulong> key)
    {
        acc ^= Avx512F.ShiftRightLogical(acc, 47);
        acc ^= key;
        return acc * Vector512.Create(Prime32_1);
    }

    private static ulong MultiplyFold(ulong left, ulong right)
    {
        var high = Math.BigMul(left, right, out var low);
        return low ^ high;
    }
}
