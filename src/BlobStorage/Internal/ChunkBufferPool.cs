using System.Buffers;
using System.Collections.Concurrent;

namespace BlobStorage.Internal;

/// <summary>
/// The buffers a store's uploads and downloads hold whole chunks in, kept for reuse across threads.
/// </summary>
/// <remarks>
/// <see cref="ArrayPool{T}.Shared"/> keeps one array per size in every thread that returns one, where
/// only that thread finds it again: an upload or download hops between pool threads from chunk to
/// chunk, so a 1 GiB transfer left a chunk-sized array behind in thread after thread, and the process
/// held four or five chunks more than it used (measured: 17 to 26 MB of growth over a download of
/// 1 GiB that needed none). Here every thread shares one stack of chunk-sized arrays, so a store holds
/// no more of them than it ever used at once, and at most <c>retained</c>. Smaller requests (a short last
/// chunk, a pipe segment) go to the shared pool; larger ones (a chunk written with a larger chunk size
/// than the store's current one) are allocated for the call and left to the collector.
/// <para>
/// An upload holds one chunk buffer while it reads, and up to <c>UploadConcurrency</c> more while earlier chunks are
/// written. Those extra ones are shared by all uploads (<see cref="TryTakeUploadExtra"/>): one upload alone overlaps
/// its reads and writes as before, while concurrent uploads, which keep the cores busy without it, take turns instead
/// of each holding <c>UploadConcurrency + 1</c> chunks. An upload never waits for another's buffers: without an extra,
/// it waits for its own oldest write.
/// </para>
/// <para>
/// Uploads that stream their chunks (one chunk folder) hold slices instead (<see cref="RentSlice"/>), with a stack and an
/// allowance of their own (<see cref="TryTakeExtraSlice"/>).
/// </para>
/// </remarks>
internal sealed class ChunkBufferPool : MemoryPool<byte>
{
    private readonly ConcurrentStack<byte[]> _free = new();
    private readonly ConcurrentStack<byte[]> _freeSlices = new();
    private readonly ConcurrentStack<byte[]> _freePieces = new();
    private readonly int _chunkSize;
    private readonly int _retained;
    private readonly int _uploadExtras;
    private readonly int _retainedSlices;
    private readonly int _extraSlices;
    private readonly int _retainedPieces;
    private int _uploadExtrasTaken;
    private int _extraSlicesTaken;

    /// <param name="chunkSize">The store's chunk size.</param>
    /// <param name="retained">The most chunk buffers kept for reuse.</param>
    /// <param name="uploadExtras">The most chunk buffers all uploads together hold beyond each one's first.</param>
    /// <param name="sliceSize">The size of the slices streamed uploads read into (<see cref="RentSlice"/>); 0 for none.</param>
    /// <param name="retainedSlices">The most slices kept for reuse.</param>
    /// <param name="extraSlices">The most slices all streamed uploads together hold beyond each one's first (<see cref="TryTakeExtraSlice"/>).</param>
    /// <param name="retainedPieces">The most piece buffers (<see cref="RentPiece"/>) kept for reuse.</param>
    public ChunkBufferPool(int chunkSize, int retained, int uploadExtras, int sliceSize = 0, int retainedSlices = 0, int extraSlices = 0, int retainedPieces = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        ArgumentOutOfRangeException.ThrowIfNegative(retained);
        ArgumentOutOfRangeException.ThrowIfNegative(uploadExtras);
        ArgumentOutOfRangeException.ThrowIfNegative(sliceSize);
        ArgumentOutOfRangeException.ThrowIfNegative(retainedSlices);
        ArgumentOutOfRangeException.ThrowIfNegative(extraSlices);
        ArgumentOutOfRangeException.ThrowIfNegative(retainedPieces);
        _chunkSize = chunkSize;
        _retained = retained;
        _uploadExtras = uploadExtras;
        SliceSize = sliceSize;
        _retainedSlices = retainedSlices;
        _extraSlices = extraSlices;
        _retainedPieces = retainedPieces;
    }

    /// <summary>The size of <see cref="RentPiece"/>'s arrays: the most a download's parallel copy reads at once.</summary>
    public const int PieceSize = 1024 * 1024;

    /// <summary>
    /// An array of <see cref="PieceSize"/> bytes for a download's parallel copy. Pieces have a stack of their own, shared
    /// by every thread: the shared array pool keeps an array in the slot of the thread that returns it, and a copy
    /// returns its buffers on whichever thread ends it, so arrays were missed and allocated anew, large garbage each.
    /// </summary>
    public byte[] RentPiece() => _freePieces.TryPop(out var array) ? array : GC.AllocateUninitializedArray<byte>(PieceSize);

    /// <summary>Gives back an array from <see cref="RentPiece"/>; the caller must not touch it afterwards.</summary>
    public void ReturnPiece(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length == PieceSize && _freePieces.Count < _retainedPieces) _freePieces.Push(array);
    }

    /// <summary>The size of <see cref="RentSlice"/>'s arrays.</summary>
    public int SliceSize { get; }

    /// <summary>
    /// An array of <see cref="SliceSize"/> bytes for a streamed upload. Slices have a stack of their own, shared by every
    /// thread like the chunk buffers', so the store keeps no more of them than it used at once, and at most <c>retainedSlices</c>.
    /// </summary>
    public byte[] RentSlice() => _freeSlices.TryPop(out var array) ? array : GC.AllocateUninitializedArray<byte>(SliceSize);

    /// <summary>Gives back an array from <see cref="RentSlice"/>; the caller must not touch it afterwards.</summary>
    public void ReturnSlice(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length == SliceSize && _freeSlices.Count < _retainedSlices) _freeSlices.Push(array);
    }

    /// <summary>
    /// Room for a streamed upload to hold one more slice, reading ahead while its earlier slices are written; false while
    /// uploads hold as many extra slices as allowed (the cores are busy with them: more reading ahead gains nothing).
    /// </summary>
    public bool TryTakeExtraSlice() => TryTake(ref _extraSlicesTaken, _extraSlices);

    /// <summary>Gives back the room <see cref="TryTakeExtraSlice"/> gave.</summary>
    public void ReturnExtraSlice() => Interlocked.Decrement(ref _extraSlicesTaken);

    /// <summary>Extra slices streamed uploads hold now; for tests.</summary>
    internal int ExtraSlicesTaken => Volatile.Read(ref _extraSlicesTaken);

    private static bool TryTake(ref int taken, int limit)
    {
        while (true)
        {
            var now = Volatile.Read(ref taken);
            if (now >= limit) return false;
            if (Interlocked.CompareExchange(ref taken, now + 1, now) == now) return true;
        }
    }

    /// <summary>Room for one more chunk buffer beyond an upload's first; false while uploads hold as many extra ones as allowed.</summary>
    public bool TryTakeUploadExtra() => TryTake(ref _uploadExtrasTaken, _uploadExtras);

    /// <summary>Gives back the room <see cref="TryTakeUploadExtra"/> gave.</summary>
    public void ReturnUploadExtra() => Interlocked.Decrement(ref _uploadExtrasTaken);

    /// <summary>Extra chunk buffers uploads hold now; for tests.</summary>
    internal int UploadExtrasTaken => Volatile.Read(ref _uploadExtrasTaken);

    /// <inheritdoc />
    public override int MaxBufferSize => int.MaxValue;

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes; its contents are whatever was left in it.</summary>
    public byte[] RentArray(int minimumLength)
    {
        if (minimumLength > _chunkSize) return GC.AllocateUninitializedArray<byte>(minimumLength);
        if (minimumLength <= _chunkSize / 2) return ArrayPool<byte>.Shared.Rent(minimumLength);
        return _free.TryPop(out var array) ? array : GC.AllocateUninitializedArray<byte>(_chunkSize);
    }

    /// <summary>Gives back an array from <see cref="RentArray"/>; the caller must not touch it afterwards.</summary>
    public void ReturnArray(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length == _chunkSize)
        {
            // The count is read without a lock: at worst a few more than retained are kept for a while.
            if (_free.Count < _retained) _free.Push(array);
        }
        else if (array.Length < _chunkSize)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <inheritdoc />
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => new Lease(this, RentArray(minBufferSize < 0 ? 4096 : minBufferSize));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _free.Clear();
        _freeSlices.Clear();
        _freePieces.Clear();
    }

    /// <summary>One array lent through <see cref="MemoryPool{T}"/>, as a pipe asks for its segments.</summary>
    private sealed class Lease(ChunkBufferPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Lease));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } array) pool.ReturnArray(array);
        }
    }
}
