using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BlobStorage.Internal;

/// <summary>
/// BLAKE3 (unkeyed, 32-byte output) of content given in pieces: the name of each chunk of a blob of several chunks. Its
/// values are the Blake3 package's; on processors with AVX-512 or AVX2 it computes them itself, sixteen or eight 1 KiB
/// chunks at once.
/// </summary>
/// <remarks>
/// The Blake3 package is managed code the runtime first compiles unoptimized, and a fresh process hashed its first
/// 76 MiB (nineteen calls of 4 MiB) at 0.17 to 0.48 GB/s against 6.1 to 8.5 GB/s once recompiled: slower than the
/// SHA-256 pass beside it, so the first large uploads of every process waited for it. The methods here are marked
/// <see cref="MethodImplOptions.AggressiveOptimization"/> and run optimized from their first call. Sixteen chunks are
/// hashed in the lanes of 512-bit registers (each block's words transposed across them); runs of 256 chunks have their
/// parents reduced sixteen at a time in full lanes, shorter runs (16 chunks) in lanes that halve. Each run is pushed as
/// its two halves onto a stack of subtrees that merges lazily, as the reference implementation's does, so the root is
/// merged only at the end, with its flag. Partial chunks and the tree above the runs are compressed one block at a
/// time. With AVX2 only, a batch of sixteen chunks is two passes of eight 256-bit lanes, and runs are batches. Without
/// either the Blake3 package does the work. The tests compare every width with it on every length up to three batches
/// and on lengths and splits up to 4 MiB (see <c>ChunkNamingBenchmarks</c> for speeds).
/// </remarks>
internal sealed class Blake3Hasher : IDisposable
{
    /// <summary>The size of a hash, in bytes.</summary>
    public const int HashSize = 32;

    private const int BlockLength = 64;
    private const int ChunkLength = 1024;
    private const int Lanes = 16;
    private const int BatchLength = Lanes * ChunkLength;
    private const int WideBatches = 16;
    private const int WideChunks = WideBatches * Lanes;
    private const int WideLength = WideBatches * BatchLength;
    private const int MaxDepth = 54;
    private const uint ChunkStart = 1;
    private const uint ChunkEnd = 2;
    private const uint ParentFlag = 4;
    private const uint RootFlag = 8;

    private static ReadOnlySpan<uint> IV => [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19];

    // The message word each of a round's sixteen G inputs takes, round by round (each round's order permuted from the last).
    private static ReadOnlySpan<byte> Schedule =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8,
        3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1,
        10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6,
        12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4,
        9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7,
        11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13,
    ];

    private readonly Blake3.Hasher? _portable;
    private readonly int _vectorBits;
    private readonly uint[] _stack = new uint[MaxDepth * 8];
    private readonly uint[] _chunkCv = new uint[8];
    private readonly byte[] _block = new byte[BlockLength];
    private int _depth;
    private int _blockLength;
    private int _blocksCompressed;
    private ulong _chunkCounter;

    /// <summary>A hasher at the start of its input, on the widest vectors this processor has.</summary>
    public Blake3Hasher()
        : this(Avx512F.IsSupported ? 512 : Avx2.IsSupported ? 256 : 0)
    {
    }

    /// <summary>
    /// A hasher on vectors of <paramref name="vectorBits"/>: 512 (AVX-512, sixteen chunks a batch in one pass), 256
    /// (AVX2, a batch as two passes of eight) or 0 (the Blake3 package). The tests run every width the processor has.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">The processor has no such vectors.</exception>
    internal Blake3Hasher(int vectorBits)
    {
        if ((vectorBits == 512 && !Avx512F.IsSupported) || (vectorBits == 256 && !Avx2.IsSupported) || vectorBits is not (0 or 256 or 512))
        {
            throw new PlatformNotSupportedException($"This processor cannot hash BLAKE3 on {vectorBits}-bit vectors.");
        }

        _vectorBits = vectorBits;
        if (vectorBits == 0) _portable = Blake3.Hasher.New();
        IV.CopyTo(_chunkCv);
    }

    /// <summary>Writes the BLAKE3 hash of <paramref name="input"/> to <paramref name="hash"/> (<see cref="HashSize"/> bytes).</summary>
    public static void Hash(ReadOnlySpan<byte> input, Span<byte> hash)
    {
        using var hasher = new Blake3Hasher();
        hasher.Update(input);
        hasher.Finalize(hash);
    }

    /// <summary>Bytes of the current chunk so far.</summary>
    private int ChunkBytes => (_blocksCompressed * BlockLength) + _blockLength;

    /// <summary>Adds <paramref name="input"/> to the content hashed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Update(ReadOnlySpan<byte> input)
    {
        if (_portable is not null)
        {
            _portable.Update(input);
            return;
        }

        Span<uint> cv = stackalloc uint[16];
        while (!input.IsEmpty)
        {
            if (ChunkBytes == ChunkLength)
            {
                // A whole chunk with more behind it: not the last, so not the root.
                ChunkOutput(cv);
                PushCv(cv[..8], _chunkCounter);
                _chunkCounter++;
                ResetChunk();
            }

            if (ChunkBytes == 0 && _chunkCounter % Lanes == 0 && input.Length >= BatchLength)
            {
                while (input.Length >= BatchLength)
                {
                    // Pushed as their two halves: their parent may be the root, merged only at the end.
                    var wide = _vectorBits == 512 && _chunkCounter % WideChunks == 0 && input.Length >= WideLength;
                    var chunks = wide ? WideChunks : Lanes;
                    if (wide) HashWide(input, _chunkCounter, cv);
                    else if (_vectorBits == 512) HashBatch(input, _chunkCounter, cv);
                    else HashBatch256(input, _chunkCounter, cv);
                    PushCv(cv[..8], _chunkCounter);
                    PushCv(cv[8..], _chunkCounter + (ulong)(chunks / 2));
                    _chunkCounter += (ulong)chunks;
                    input = input[(chunks * ChunkLength)..];
                }

                continue;
            }

            if (ChunkBytes == 0) MergeStack(_chunkCounter);
            var take = Math.Min(ChunkLength - ChunkBytes, input.Length);
            UpdateChunk(input[..take]);
            input = input[take..];
        }
    }

    /// <summary>Writes the hash of everything added to <paramref name="hash"/> (<see cref="HashSize"/> bytes); call once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Finalize(Span<byte> hash)
    {
        if (_portable is not null)
        {
            _portable.Finalize(hash[..HashSize]);
            return;
        }

        Span<uint> output = stackalloc uint[16];
        var remaining = _depth;
        if (remaining == 0 || ChunkBytes > 0)
        {
            // The last chunk: the root itself when it is the only one.
            ChunkOutput(output, remaining == 0 ? RootFlag : 0);
        }
        else
        {
            // The input ended with a run: its two halves are the top two subtrees.
            remaining -= 2;
            Parent(_stack.AsSpan(remaining * 8, 16), root: remaining == 0, output);
        }

        Span<uint> words = stackalloc uint[16];
        while (remaining > 0)
        {
            remaining--;
            _stack.AsSpan(remaining * 8, 8).CopyTo(words);
            output[..8].CopyTo(words[8..]);
            Parent(words, root: remaining == 0, output);
        }

        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteUInt32LittleEndian(hash[(i * 4)..], output[i]);
    }

    /// <inheritdoc />
    public void Dispose() => _portable?.Dispose();

    /// <summary>The flag of the current chunk's next compression: the start flag on its first block.</summary>
    private uint ChunkFlags() => _blocksCompressed == 0 ? ChunkStart : 0;

    /// <summary>Begins the next chunk.</summary>
    private void ResetChunk()
    {
        IV.CopyTo(_chunkCv);
        _blockLength = 0;
        _blocksCompressed = 0;
        _block.AsSpan().Clear();
    }

    /// <summary>
    /// The current chunk's last compression, with <paramref name="rootFlag"/> when it is the root; the first eight words
    /// of <paramref name="output"/> are then the chunk's chaining value (or the hash).
    /// </summary>
    private void ChunkOutput(Span<uint> output, uint rootFlag = 0)
    {
        Span<uint> words = stackalloc uint[16];
        BlockWords(_block, words);
        Compress(_chunkCv, words, _chunkCounter, (uint)_blockLength, ChunkFlags() | ChunkEnd | rootFlag, output);
    }

    /// <summary>A parent node: <paramref name="children"/> is its left child's chaining value, then its right child's.</summary>
    private static void Parent(ReadOnlySpan<uint> children, bool root, Span<uint> output) =>
        Compress(IV, children, 0, BlockLength, ParentFlag | (root ? RootFlag : 0), output);

    /// <summary>Adds bytes to the current chunk, at most what fills it, keeping its last block until more comes or the end.</summary>
    private void UpdateChunk(ReadOnlySpan<byte> input)
    {
        Span<uint> words = stackalloc uint[16];
        Span<uint> output = stackalloc uint[16];
        while (!input.IsEmpty)
        {
            if (_blockLength == BlockLength)
            {
                BlockWords(_block, words);
                Compress(_chunkCv, words, _chunkCounter, BlockLength, ChunkFlags(), output);
                output[..8].CopyTo(_chunkCv);
                _blocksCompressed++;
                _blockLength = 0;
                _block.AsSpan().Clear();
            }

            var take = Math.Min(BlockLength - _blockLength, input.Length);
            input[..take].CopyTo(_block.AsSpan(_blockLength));
            _blockLength += take;
            input = input[take..];
        }
    }

    /// <summary>Pushes a subtree's chaining value, after merging what the subtrees before it (<paramref name="chunksBefore"/> chunks) complete.</summary>
    private void PushCv(ReadOnlySpan<uint> cv, ulong chunksBefore)
    {
        MergeStack(chunksBefore);
        cv.CopyTo(_stack.AsSpan(_depth * 8, 8));
        _depth++;
    }

    /// <summary>Merges the top of the stack until it holds one subtree per bit of <paramref name="chunks"/>: lazily, so the root is never merged early.</summary>
    private void MergeStack(ulong chunks)
    {
        Span<uint> output = stackalloc uint[16];
        var keep = BitOperations.PopCount(chunks);
        while (_depth > keep)
        {
            _depth -= 2;
            Parent(_stack.AsSpan(_depth * 8, 16), root: false, output);
            output[..8].CopyTo(_stack.AsSpan(_depth * 8, 8));
            _depth++;
        }
    }

    /// <summary>A block's sixteen little-endian words.</summary>
    private static void BlockWords(ReadOnlySpan<byte> block, Span<uint> words)
    {
        for (var i = 0; i < 16; i++) words[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * 4)..]);
    }

    /// <summary>One compression, one block: the chaining value in <paramref name="output"/>[..8], the rest of the state after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compress(ReadOnlySpan<uint> cv, ReadOnlySpan<uint> m, ulong counter, uint blockLength, uint flags, Span<uint> output)
    {
        var iv = IV;
        _ = cv[7];
        _ = m[15];
        _ = output[15];
        uint v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7];
        uint v8 = iv[0], v9 = iv[1], v10 = iv[2], v11 = iv[3], v12 = (uint)counter, v13 = (uint)(counter >> 32), v14 = blockLength, v15 = flags;
        ref var schedule = ref MemoryMarshal.GetReference(Schedule);
        ref var words = ref MemoryMarshal.GetReference(m);
        for (var r = 0; r < 7; r++)
        {
            ref var s = ref Unsafe.Add(ref schedule, r * 16);
            G(ref v0, ref v4, ref v8, ref v12, Unsafe.Add(ref words, Unsafe.Add(ref s, 0)), Unsafe.Add(ref words, Unsafe.Add(ref s, 1)));
            G(ref v1, ref v5, ref v9, ref v13, Unsafe.Add(ref words, Unsafe.Add(ref s, 2)), Unsafe.Add(ref words, Unsafe.Add(ref s, 3)));
            G(ref v2, ref v6, ref v10, ref v14, Unsafe.Add(ref words, Unsafe.Add(ref s, 4)), Unsafe.Add(ref words, Unsafe.Add(ref s, 5)));
            G(ref v3, ref v7, ref v11, ref v15, Unsafe.Add(ref words, Unsafe.Add(ref s, 6)), Unsafe.Add(ref words, Unsafe.Add(ref s, 7)));
            G(ref v0, ref v5, ref v10, ref v15, Unsafe.Add(ref words, Unsafe.Add(ref s, 8)), Unsafe.Add(ref words, Unsafe.Add(ref s, 9)));
            G(ref v1, ref v6, ref v11, ref v12, Unsafe.Add(ref words, Unsafe.Add(ref s, 10)), Unsafe.Add(ref words, Unsafe.Add(ref s, 11)));
            G(ref v2, ref v7, ref v8, ref v13, Unsafe.Add(ref words, Unsafe.Add(ref s, 12)), Unsafe.Add(ref words, Unsafe.Add(ref s, 13)));
            G(ref v3, ref v4, ref v9, ref v14, Unsafe.Add(ref words, Unsafe.Add(ref s, 14)), Unsafe.Add(ref words, Unsafe.Add(ref s, 15)));
        }

        output[0] = v0 ^ v8; output[1] = v1 ^ v9; output[2] = v2 ^ v10; output[3] = v3 ^ v11;
        output[4] = v4 ^ v12; output[5] = v5 ^ v13; output[6] = v6 ^ v14; output[7] = v7 ^ v15;
        output[8] = v8 ^ cv[0]; output[9] = v9 ^ cv[1]; output[10] = v10 ^ cv[2]; output[11] = v11 ^ cv[3];
        output[12] = v12 ^ cv[4]; output[13] = v13 ^ cv[5]; output[14] = v14 ^ cv[6]; output[15] = v15 ^ cv[7];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref uint a, ref uint b, ref uint c, ref uint d, uint x, uint y)
    {
        a += b + x;
        d = uint.RotateRight(d ^ a, 16);
        c += d;
        b = uint.RotateRight(b ^ c, 12);
        a += b + y;
        d = uint.RotateRight(d ^ a, 8);
        c += d;
        b = uint.RotateRight(b ^ c, 7);
    }

    /// <summary>
    /// Hashes the sixteen chunks at the start of <paramref name="input"/>, the first numbered <paramref name="counter"/>, and
    /// writes the chaining values of their two halves (8 chunks each) to <paramref name="cv"/>[..8] and [8..].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HashBatch(ReadOnlySpan<byte> input, ulong counter, Span<uint> cv)
    {
        Span<Vector512<uint>> m = stackalloc Vector512<uint>[16];
        Span<Vector512<uint>> cvs = stackalloc Vector512<uint>[8];
        ChunkLanes(ref MemoryMarshal.GetReference(input), counter, m, cvs);
        Halves(cvs, m, cv);
    }

    /// <summary>
    /// <see cref="HashBatch"/> for the 256 chunks at the start of <paramref name="input"/>: sixteen batches, then their
    /// parents sixteen at a time in full lanes, and the two halves' chaining values (128 chunks each) to <paramref name="cv"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HashWide(ReadOnlySpan<byte> input, ulong counter, Span<uint> cv)
    {
        ref var start = ref MemoryMarshal.GetReference(input);
        Span<Vector512<uint>> m = stackalloc Vector512<uint>[16];
        Span<Vector512<uint>> cvs = stackalloc Vector512<uint>[WideBatches * 8];
        for (var k = 0; k < WideBatches; k++)
        {
            ChunkLanes(ref Unsafe.Add(ref start, k * BatchLength), counter + (ulong)(k * Lanes), m, cvs.Slice(k * 8, 8));
        }

        // Group p of the next level takes groups 2p and 2p + 1: its sixteen lanes are their sixteen pairs, in order.
        for (var groups = WideBatches; groups > 1; groups /= 2)
        {
            for (var p = 0; p < groups / 2; p++) ParentLanes(cvs.Slice(2 * p * 8, 8), cvs.Slice(((2 * p) + 1) * 8, 8), m, cvs.Slice(p * 8, 8));
        }

        Halves(cvs[..8], m, cv);
    }

    /// <summary>
    /// Compresses the sixteen blocks of sixteen chunks at <paramref name="start"/>, the first numbered <paramref name="counter"/>,
    /// and writes their chaining values to <paramref name="cvs"/>: word w of chunk i in lane i of <c>cvs[w]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ChunkLanes(ref byte start, ulong counter, Span<Vector512<uint>> m, Span<Vector512<uint>> cvs)
    {
        var iv = IV;
        var h0 = Vector512.Create(iv[0]); var h1 = Vector512.Create(iv[1]); var h2 = Vector512.Create(iv[2]); var h3 = Vector512.Create(iv[3]);
        var h4 = Vector512.Create(iv[4]); var h5 = Vector512.Create(iv[5]); var h6 = Vector512.Create(iv[6]); var h7 = Vector512.Create(iv[7]);
        var lanes = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var low = Vector512.Create(counter) + lanes;
        var high = low + Vector512.Create(8UL);
        var counterLow = Vector512.Narrow(low, high);
        var counterHigh = Vector512.Narrow(low >>> 32, high >>> 32);
        for (var b = 0; b < 16; b++)
        {
            LoadTransposed(ref start, (nuint)(b * BlockLength), m);
            var flags = (b == 0 ? ChunkStart : 0) | (b == 15 ? ChunkEnd : 0);
            CompressLanes(ref h0, ref h1, ref h2, ref h3, ref h4, ref h5, ref h6, ref h7, m, counterLow, counterHigh, Vector512.Create((uint)BlockLength), Vector512.Create(flags));
        }

        cvs[0] = h0; cvs[1] = h1; cvs[2] = h2; cvs[3] = h3; cvs[4] = h4; cvs[5] = h5; cvs[6] = h6; cvs[7] = h7;
    }

    /// <summary>
    /// The parents of sixteen lanes of subtrees, three levels up (each halving the lanes in use), and the last two
    /// chaining values to <paramref name="cv"/>[..8] and [8..].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Halves(Span<Vector512<uint>> cvs, Span<Vector512<uint>> m, Span<uint> cv)
    {
        for (var level = 0; level < 3; level++) ParentLanes(cvs, cvs, m, cvs);
        for (var w = 0; w < 8; w++)
        {
            cv[w] = cvs[w][0];
            cv[8 + w] = cvs[w][1];
        }
    }

    /// <summary>
    /// Sixteen parents: lanes 0 to 7 of <paramref name="output"/> from the eight lane pairs of <paramref name="left"/>,
    /// lanes 8 to 15 from those of <paramref name="right"/>. The output may be either input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ParentLanes(Span<Vector512<uint>> left, Span<Vector512<uint>> right, Span<Vector512<uint>> m, Span<Vector512<uint>> output)
    {
        var even = Vector512.Create(0u, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1u, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        for (var w = 0; w < 8; w++)
        {
            m[w] = Avx512F.PermuteVar16x32x2(left[w], even, right[w]);
            m[8 + w] = Avx512F.PermuteVar16x32x2(left[w], odd, right[w]);
        }

        var iv = IV;
        var h0 = Vector512.Create(iv[0]); var h1 = Vector512.Create(iv[1]); var h2 = Vector512.Create(iv[2]); var h3 = Vector512.Create(iv[3]);
        var h4 = Vector512.Create(iv[4]); var h5 = Vector512.Create(iv[5]); var h6 = Vector512.Create(iv[6]); var h7 = Vector512.Create(iv[7]);
        CompressLanes(ref h0, ref h1, ref h2, ref h3, ref h4, ref h5, ref h6, ref h7, m, Vector512<uint>.Zero, Vector512<uint>.Zero, Vector512.Create((uint)BlockLength), Vector512.Create(ParentFlag));
        output[0] = h0; output[1] = h1; output[2] = h2; output[3] = h3; output[4] = h4; output[5] = h5; output[6] = h6; output[7] = h7;
    }

    /// <summary>One compression in each of sixteen lanes: <paramref name="h0"/> to h7 are the chaining values in and out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CompressLanes(
        ref Vector512<uint> h0, ref Vector512<uint> h1, ref Vector512<uint> h2, ref Vector512<uint> h3,
        ref Vector512<uint> h4, ref Vector512<uint> h5, ref Vector512<uint> h6, ref Vector512<uint> h7,
        Span<Vector512<uint>> m, Vector512<uint> counterLow, Vector512<uint> counterHigh, Vector512<uint> blockLength, Vector512<uint> flags)
    {
        var iv = IV;
        Vector512<uint> v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7;
        var v8 = Vector512.Create(iv[0]); var v9 = Vector512.Create(iv[1]); var v10 = Vector512.Create(iv[2]); var v11 = Vector512.Create(iv[3]);
        Vector512<uint> v12 = counterLow, v13 = counterHigh, v14 = blockLength, v15 = flags;
        ref var schedule = ref MemoryMarshal.GetReference(Schedule);
        for (var r = 0; r < 7; r++)
        {
            ref var s = ref Unsafe.Add(ref schedule, r * 16);
            G(ref v0, ref v4, ref v8, ref v12, m[Unsafe.Add(ref s, 0)], m[Unsafe.Add(ref s, 1)]);
            G(ref v1, ref v5, ref v9, ref v13, m[Unsafe.Add(ref s, 2)], m[Unsafe.Add(ref s, 3)]);
            G(ref v2, ref v6, ref v10, ref v14, m[Unsafe.Add(ref s, 4)], m[Unsafe.Add(ref s, 5)]);
            G(ref v3, ref v7, ref v11, ref v15, m[Unsafe.Add(ref s, 6)], m[Unsafe.Add(ref s, 7)]);
            G(ref v0, ref v5, ref v10, ref v15, m[Unsafe.Add(ref s, 8)], m[Unsafe.Add(ref s, 9)]);
            G(ref v1, ref v6, ref v11, ref v12, m[Unsafe.Add(ref s, 10)], m[Unsafe.Add(ref s, 11)]);
            G(ref v2, ref v7, ref v8, ref v13, m[Unsafe.Add(ref s, 12)], m[Unsafe.Add(ref s, 13)]);
            G(ref v3, ref v4, ref v9, ref v14, m[Unsafe.Add(ref s, 14)], m[Unsafe.Add(ref s, 15)]);
        }

        h0 = v0 ^ v8; h1 = v1 ^ v9; h2 = v2 ^ v10; h3 = v3 ^ v11;
        h4 = v4 ^ v12; h5 = v5 ^ v13; h6 = v6 ^ v14; h7 = v7 ^ v15;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref Vector512<uint> a, ref Vector512<uint> b, ref Vector512<uint> c, ref Vector512<uint> d, Vector512<uint> x, Vector512<uint> y)
    {
        a = a + b + x;
        d = Avx512F.RotateRight(d ^ a, 16);
        c += d;
        b = Avx512F.RotateRight(b ^ c, 12);
        a = a + b + y;
        d = Avx512F.RotateRight(d ^ a, 8);
        c += d;
        b = Avx512F.RotateRight(b ^ c, 7);
    }

    /// <summary>
    /// Loads block <paramref name="offset"/> of sixteen chunks and transposes it into <paramref name="m"/>: word w of chunk i
    /// becomes lane i of <c>m[w]</c>. 32-bit interleaves of chunk pairs, 64-bit interleaves of those, then two 128-bit ones.
    /// </summary>
    /// <remarks>
    /// Optimized from its first call, not inlined: the JIT does not inline it into <see cref="ChunkLanes"/> (the caller's
    /// inlining budget is spent), and as a method of its own it ran unoptimized for most of a process that kept
    /// compiling new code (8.75 % of a 256 MiB <c>put</c> by the command-line tool, against 4.54 % for all the hashing).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LoadTransposed(ref byte start, nuint offset, Span<Vector512<uint>> m)
    {
        var r0 = Vector512.LoadUnsafe(ref start, offset).AsUInt32();
        var r1 = Vector512.LoadUnsafe(ref start, offset + (1 * ChunkLength)).AsUInt32();
        var r2 = Vector512.LoadUnsafe(ref start, offset + (2 * ChunkLength)).AsUInt32();
        var r3 = Vector512.LoadUnsafe(ref start, offset + (3 * ChunkLength)).AsUInt32();
        var r4 = Vector512.LoadUnsafe(ref start, offset + (4 * ChunkLength)).AsUInt32();
        var r5 = Vector512.LoadUnsafe(ref start, offset + (5 * ChunkLength)).AsUInt32();
        var r6 = Vector512.LoadUnsafe(ref start, offset + (6 * ChunkLength)).AsUInt32();
        var r7 = Vector512.LoadUnsafe(ref start, offset + (7 * ChunkLength)).AsUInt32();
        var r8 = Vector512.LoadUnsafe(ref start, offset + (8 * ChunkLength)).AsUInt32();
        var r9 = Vector512.LoadUnsafe(ref start, offset + (9 * ChunkLength)).AsUInt32();
        var r10 = Vector512.LoadUnsafe(ref start, offset + (10 * ChunkLength)).AsUInt32();
        var r11 = Vector512.LoadUnsafe(ref start, offset + (11 * ChunkLength)).AsUInt32();
        var r12 = Vector512.LoadUnsafe(ref start, offset + (12 * ChunkLength)).AsUInt32();
        var r13 = Vector512.LoadUnsafe(ref start, offset + (13 * ChunkLength)).AsUInt32();
        var r14 = Vector512.LoadUnsafe(ref start, offset + (14 * ChunkLength)).AsUInt32();
        var r15 = Vector512.LoadUnsafe(ref start, offset + (15 * ChunkLength)).AsUInt32();

        var ab0 = Avx512F.UnpackLow(r0, r1).AsUInt64(); var ab2 = Avx512F.UnpackHigh(r0, r1).AsUInt64();
        var cd0 = Avx512F.UnpackLow(r2, r3).AsUInt64(); var cd2 = Avx512F.UnpackHigh(r2, r3).AsUInt64();
        var ef0 = Avx512F.UnpackLow(r4, r5).AsUInt64(); var ef2 = Avx512F.UnpackHigh(r4, r5).AsUInt64();
        var gh0 = Avx512F.UnpackLow(r6, r7).AsUInt64(); var gh2 = Avx512F.UnpackHigh(r6, r7).AsUInt64();
        var ij0 = Avx512F.UnpackLow(r8, r9).AsUInt64(); var ij2 = Avx512F.UnpackHigh(r8, r9).AsUInt64();
        var kl0 = Avx512F.UnpackLow(r10, r11).AsUInt64(); var kl2 = Avx512F.UnpackHigh(r10, r11).AsUInt64();
        var mn0 = Avx512F.UnpackLow(r12, r13).AsUInt64(); var mn2 = Avx512F.UnpackHigh(r12, r13).AsUInt64();
        var op0 = Avx512F.UnpackLow(r14, r15).AsUInt64(); var op2 = Avx512F.UnpackHigh(r14, r15).AsUInt64();

        var abcd0 = Avx512F.UnpackLow(ab0, cd0).AsUInt32(); var abcd1 = Avx512F.UnpackHigh(ab0, cd0).AsUInt32();
        var abcd2 = Avx512F.UnpackLow(ab2, cd2).AsUInt32(); var abcd3 = Avx512F.UnpackHigh(ab2, cd2).AsUInt32();
        var efgh0 = Avx512F.UnpackLow(ef0, gh0).AsUInt32(); var efgh1 = Avx512F.UnpackHigh(ef0, gh0).AsUInt32();
        var efgh2 = Avx512F.UnpackLow(ef2, gh2).AsUInt32(); var efgh3 = Avx512F.UnpackHigh(ef2, gh2).AsUInt32();
        var ijkl0 = Avx512F.UnpackLow(ij0, kl0).AsUInt32(); var ijkl1 = Avx512F.UnpackHigh(ij0, kl0).AsUInt32();
        var ijkl2 = Avx512F.UnpackLow(ij2, kl2).AsUInt32(); var ijkl3 = Avx512F.UnpackHigh(ij2, kl2).AsUInt32();
        var mnop0 = Avx512F.UnpackLow(mn0, op0).AsUInt32(); var mnop1 = Avx512F.UnpackHigh(mn0, op0).AsUInt32();
        var mnop2 = Avx512F.UnpackLow(mn2, op2).AsUInt32(); var mnop3 = Avx512F.UnpackHigh(mn2, op2).AsUInt32();

        const byte Low = 0x88;
        const byte High = 0xDD;
        var a0 = Avx512F.Shuffle4x128(abcd0, efgh0, Low); var a4 = Avx512F.Shuffle4x128(abcd0, efgh0, High);
        var a1 = Avx512F.Shuffle4x128(abcd1, efgh1, Low); var a5 = Avx512F.Shuffle4x128(abcd1, efgh1, High);
        var a2 = Avx512F.Shuffle4x128(abcd2, efgh2, Low); var a6 = Avx512F.Shuffle4x128(abcd2, efgh2, High);
        var a3 = Avx512F.Shuffle4x128(abcd3, efgh3, Low); var a7 = Avx512F.Shuffle4x128(abcd3, efgh3, High);
        var b0 = Avx512F.Shuffle4x128(ijkl0, mnop0, Low); var b4 = Avx512F.Shuffle4x128(ijkl0, mnop0, High);
        var b1 = Avx512F.Shuffle4x128(ijkl1, mnop1, Low); var b5 = Avx512F.Shuffle4x128(ijkl1, mnop1, High);
        var b2 = Avx512F.Shuffle4x128(ijkl2, mnop2, Low); var b6 = Avx512F.Shuffle4x128(ijkl2, mnop2, High);
        var b3 = Avx512F.Shuffle4x128(ijkl3, mnop3, Low); var b7 = Avx512F.Shuffle4x128(ijkl3, mnop3, High);

        m[0] = Avx512F.Shuffle4x128(a0, b0, Low); m[8] = Avx512F.Shuffle4x128(a0, b0, High);
        m[1] = Avx512F.Shuffle4x128(a1, b1, Low); m[9] = Avx512F.Shuffle4x128(a1, b1, High);
        m[2] = Avx512F.Shuffle4x128(a2, b2, Low); m[10] = Avx512F.Shuffle4x128(a2, b2, High);
        m[3] = Avx512F.Shuffle4x128(a3, b3, Low); m[11] = Avx512F.Shuffle4x128(a3, b3, High);
        m[4] = Avx512F.Shuffle4x128(a4, b4, Low); m[12] = Avx512F.Shuffle4x128(a4, b4, High);
        m[5] = Avx512F.Shuffle4x128(a5, b5, Low); m[13] = Avx512F.Shuffle4x128(a5, b5, High);
        m[6] = Avx512F.Shuffle4x128(a6, b6, Low); m[14] = Avx512F.Shuffle4x128(a6, b6, High);
        m[7] = Avx512F.Shuffle4x128(a7, b7, Low); m[15] = Avx512F.Shuffle4x128(a7, b7, High);
    }

    /// <summary>
    /// <see cref="HashBatch"/> on 256-bit vectors (AVX2): the sixteen chunks as two passes of eight lanes, their parents
    /// in lanes that halve, and the two halves' chaining values (8 chunks each) to <paramref name="cv"/>[..8] and [8..].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HashBatch256(ReadOnlySpan<byte> input, ulong counter, Span<uint> cv)
    {
        ref var start = ref MemoryMarshal.GetReference(input);
        Span<Vector256<uint>> m = stackalloc Vector256<uint>[16];
        Span<Vector256<uint>> left = stackalloc Vector256<uint>[8];
        Span<Vector256<uint>> right = stackalloc Vector256<uint>[8];
        ChunkLanes256(ref start, counter, m, left);
        ChunkLanes256(ref Unsafe.Add(ref start, 8 * ChunkLength), counter + 8, m, right);

        // Eight parents of two chunks (lanes 0-3 from the first pass's pairs, 4-7 from the second's), then four, then two.
        ParentLanes256(left, right, m, left);
        ParentLanes256(left, left, m, left);
        ParentLanes256(left, left, m, left);
        for (var w = 0; w < 8; w++)
        {
            cv[w] = left[w][0];
            cv[8 + w] = left[w][1];
        }
    }

    /// <summary>
    /// Compresses the sixteen blocks of eight chunks at <paramref name="start"/>, the first numbered <paramref name="counter"/>,
    /// and writes their chaining values to <paramref name="cvs"/>: word w of chunk i in lane i of <c>cvs[w]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChunkLanes256(ref byte start, ulong counter, Span<Vector256<uint>> m, Span<Vector256<uint>> cvs)
    {
        var iv = IV;
        var h0 = Vector256.Create(iv[0]); var h1 = Vector256.Create(iv[1]); var h2 = Vector256.Create(iv[2]); var h3 = Vector256.Create(iv[3]);
        var h4 = Vector256.Create(iv[4]); var h5 = Vector256.Create(iv[5]); var h6 = Vector256.Create(iv[6]); var h7 = Vector256.Create(iv[7]);
        var low = Vector256.Create(counter) + Vector256.Create(0UL, 1, 2, 3);
        var high = Vector256.Create(counter) + Vector256.Create(4UL, 5, 6, 7);
        var counterLow = Vector256.Narrow(low, high);
        var counterHigh = Vector256.Narrow(low >>> 32, high >>> 32);
        for (var b = 0; b < 16; b++)
        {
            LoadTransposed256(ref start, (nuint)(b * BlockLength), m);
            var flags = (b == 0 ? ChunkStart : 0) | (b == 15 ? ChunkEnd : 0);
            CompressLanes256(ref h0, ref h1, ref h2, ref h3, ref h4, ref h5, ref h6, ref h7, m, counterLow, counterHigh, Vector256.Create((uint)BlockLength), Vector256.Create(flags));
        }

        cvs[0] = h0; cvs[1] = h1; cvs[2] = h2; cvs[3] = h3; cvs[4] = h4; cvs[5] = h5; cvs[6] = h6; cvs[7] = h7;
    }

    /// <summary>
    /// Eight parents: lanes 0 to 3 of <paramref name="output"/> from the four lane pairs of <paramref name="left"/>, lanes 4
    /// to 7 from those of <paramref name="right"/>. The output may be either input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ParentLanes256(Span<Vector256<uint>> left, Span<Vector256<uint>> right, Span<Vector256<uint>> m, Span<Vector256<uint>> output)
    {
        // Even lanes to the low half, odd to the high; then the low halves of both are the left children, the high the right.
        var gather = Vector256.Create(0u, 2, 4, 6, 1, 3, 5, 7);
        for (var w = 0; w < 8; w++)
        {
            var a = Avx2.PermuteVar8x32(left[w], gather);
            var b = Avx2.PermuteVar8x32(right[w], gather);
            m[w] = Avx2.Permute2x128(a, b, 0x20);
            m[8 + w] = Avx2.Permute2x128(a, b, 0x31);
        }

        var iv = IV;
        var h0 = Vector256.Create(iv[0]); var h1 = Vector256.Create(iv[1]); var h2 = Vector256.Create(iv[2]); var h3 = Vector256.Create(iv[3]);
        var h4 = Vector256.Create(iv[4]); var h5 = Vector256.Create(iv[5]); var h6 = Vector256.Create(iv[6]); var h7 = Vector256.Create(iv[7]);
        CompressLanes256(ref h0, ref h1, ref h2, ref h3, ref h4, ref h5, ref h6, ref h7, m, Vector256<uint>.Zero, Vector256<uint>.Zero, Vector256.Create((uint)BlockLength), Vector256.Create(ParentFlag));
        output[0] = h0; output[1] = h1; output[2] = h2; output[3] = h3; output[4] = h4; output[5] = h5; output[6] = h6; output[7] = h7;
    }

    /// <summary>One compression in each of eight lanes: <paramref name="h0"/> to h7 are the chaining values in and out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CompressLanes256(
        ref Vector256<uint> h0, ref Vector256<uint> h1, ref Vector256<uint> h2, ref Vector256<uint> h3,
        ref Vector256<uint> h4, ref Vector256<uint> h5, ref Vector256<uint> h6, ref Vector256<uint> h7,
        Span<Vector256<uint>> m, Vector256<uint> counterLow, Vector256<uint> counterHigh, Vector256<uint> blockLength, Vector256<uint> flags)
    {
        var iv = IV;
        Vector256<uint> v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7;
        var v8 = Vector256.Create(iv[0]); var v9 = Vector256.Create(iv[1]); var v10 = Vector256.Create(iv[2]); var v11 = Vector256.Create(iv[3]);
        Vector256<uint> v12 = counterLow, v13 = counterHigh, v14 = blockLength, v15 = flags;
        ref var schedule = ref MemoryMarshal.GetReference(Schedule);
        for (var r = 0; r < 7; r++)
        {
            ref var s = ref Unsafe.Add(ref schedule, r * 16);
            G(ref v0, ref v4, ref v8, ref v12, m[Unsafe.Add(ref s, 0)], m[Unsafe.Add(ref s, 1)]);
            G(ref v1, ref v5, ref v9, ref v13, m[Unsafe.Add(ref s, 2)], m[Unsafe.Add(ref s, 3)]);
            G(ref v2, ref v6, ref v10, ref v14, m[Unsafe.Add(ref s, 4)], m[Unsafe.Add(ref s, 5)]);
            G(ref v3, ref v7, ref v11, ref v15, m[Unsafe.Add(ref s, 6)], m[Unsafe.Add(ref s, 7)]);
            G(ref v0, ref v5, ref v10, ref v15, m[Unsafe.Add(ref s, 8)], m[Unsafe.Add(ref s, 9)]);
            G(ref v1, ref v6, ref v11, ref v12, m[Unsafe.Add(ref s, 10)], m[Unsafe.Add(ref s, 11)]);
            G(ref v2, ref v7, ref v8, ref v13, m[Unsafe.Add(ref s, 12)], m[Unsafe.Add(ref s, 13)]);
            G(ref v3, ref v4, ref v9, ref v14, m[Unsafe.Add(ref s, 14)], m[Unsafe.Add(ref s, 15)]);
        }

        h0 = v0 ^ v8; h1 = v1 ^ v9; h2 = v2 ^ v10; h3 = v3 ^ v11;
        h4 = v4 ^ v12; h5 = v5 ^ v13; h6 = v6 ^ v14; h7 = v7 ^ v15;
    }

    /// <summary>
    /// The G function in eight lanes. AVX2 has no rotate: the rotations by 16 and 8 bits move whole bytes (one shuffle),
    /// those by 12 and 7 are two shifts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref Vector256<uint> a, ref Vector256<uint> b, ref Vector256<uint> c, ref Vector256<uint> d, Vector256<uint> x, Vector256<uint> y)
    {
        var rotate16 = Vector256.Create((byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
        var rotate8 = Vector256.Create((byte)1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
        a = a + b + x;
        d = Avx2.Shuffle((d ^ a).AsByte(), rotate16).AsUInt32();
        c += d;
        b ^= c;
        b = (b >>> 12) | (b << 20);
        a = a + b + y;
        d = Avx2.Shuffle((d ^ a).AsByte(), rotate8).AsUInt32();
        c += d;
        b ^= c;
        b = (b >>> 7) | (b << 25);
    }

    /// <summary>
    /// Loads block <paramref name="offset"/> of eight chunks and transposes it into <paramref name="m"/>: word w of chunk i
    /// becomes lane i of <c>m[w]</c>. Words 0 to 7 and 8 to 15 are two 8 by 8 transposes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LoadTransposed256(ref byte start, nuint offset, Span<Vector256<uint>> m)
    {
        Transpose8(ref start, offset, m[..8]);
        Transpose8(ref start, offset + 32, m[8..]);
    }

    /// <summary>The eight words at <paramref name="offset"/> of eight chunks, word w of chunk i to lane i of <c>m[w]</c>: 32-bit, 64-bit, then 128-bit interleaves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(ref byte start, nuint offset, Span<Vector256<uint>> m)
    {
        var r0 = Vector256.LoadUnsafe(ref start, offset).AsUInt32();
        var r1 = Vector256.LoadUnsafe(ref start, offset + (1 * ChunkLength)).AsUInt32();
        var r2 = Vector256.LoadUnsafe(ref start, offset + (2 * ChunkLength)).AsUInt32();
        var r3 = Vector256.LoadUnsafe(ref start, offset + (3 * ChunkLength)).AsUInt32();
        var r4 = Vector256.LoadUnsafe(ref start, offset + (4 * ChunkLength)).AsUInt32();
        var r5 = Vector256.LoadUnsafe(ref start, offset + (5 * ChunkLength)).AsUInt32();
        var r6 = Vector256.LoadUnsafe(ref start, offset + (6 * ChunkLength)).AsUInt32();
        var r7 = Vector256.LoadUnsafe(ref start, offset + (7 * ChunkLength)).AsUInt32();

        var t0 = Avx2.UnpackLow(r0, r1).AsUInt64(); var t1 = Avx2.UnpackHigh(r0, r1).AsUInt64();
        var t2 = Avx2.UnpackLow(r2, r3).AsUInt64(); var t3 = Avx2.UnpackHigh(r2, r3).AsUInt64();
        var t4 = Avx2.UnpackLow(r4, r5).AsUInt64(); var t5 = Avx2.UnpackHigh(r4, r5).AsUInt64();
        var t6 = Avx2.UnpackLow(r6, r7).AsUInt64(); var t7 = Avx2.UnpackHigh(r6, r7).AsUInt64();

        var u0 = Avx2.UnpackLow(t0, t2).AsUInt32(); var u1 = Avx2.UnpackHigh(t0, t2).AsUInt32();
        var u2 = Avx2.UnpackLow(t1, t3).AsUInt32(); var u3 = Avx2.UnpackHigh(t1, t3).AsUInt32();
        var u4 = Avx2.UnpackLow(t4, t6).AsUInt32(); var u5 = Avx2.UnpackHigh(t4, t6).AsUInt32();
        var u6 = Avx2.UnpackLow(t5, t7).AsUInt32(); var u7 = Avx2.UnpackHigh(t5, t7).AsUInt32();

        m[0] = Avx2.Permute2x128(u0, u4, 0x20); m[4] = Avx2.Permute2x128(u0, u4, 0x31);
        m[1] = Avx2.Permute2x128(u1, u5, 0x20); m[5] = Avx2.Permute2x128(u1, u5, 0x31);
        m[2] = Avx2.Permute2x128(u2, u6, 0x20); m[6] = Avx2.Permute2x128(u2, u6, 0x31);
        m[3] = Avx2.Permute2x128(u3, u7, 0x20); m[7] = Avx2.Permute2x128(u3, u7, 0x31);
    }
}
