using BlobStorage.Internal;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Streaming;

public sealed class ChunkBufferPoolTests
{
    private const int ChunkSize = 256 * 1024;

    [Test]
    public async Task A_chunk_buffer_returned_on_one_thread_is_rented_again_on_another()
    {
        using var pool = new ChunkBufferPool(ChunkSize, retained: 4, uploadExtras: 2);
        var first = pool.RentArray(ChunkSize);
        await Task.Run(() => pool.ReturnArray(first));

        var again = await Task.Run(() => pool.RentArray(ChunkSize));

        again.Should().BeSameAs(first, "every thread shares the pool's chunk buffers");
    }

    [Test]
    public void The_pool_keeps_no_more_chunk_buffers_than_it_retains()
    {
        using var pool = new ChunkBufferPool(ChunkSize, retained: 2, uploadExtras: 2);
        var rented = Enumerable.Range(0, 3).Select(_ => pool.RentArray(ChunkSize)).ToList();
        foreach (var buffer in rented) pool.ReturnArray(buffer);

        var again = Enumerable.Range(0, 3).Select(_ => pool.RentArray(ChunkSize)).ToList();

        again.Count(buffer => rented.Contains(buffer)).Should().Be(2, "the third returned buffer went to the collector");
        again.Should().OnlyContain(buffer => buffer.Length == ChunkSize);
    }

    [Test]
    public void A_request_larger_than_half_a_chunk_gets_a_whole_chunk_buffer_and_a_larger_one_gets_its_own()
    {
        using var pool = new ChunkBufferPool(ChunkSize, retained: 2, uploadExtras: 2);

        pool.RentArray((ChunkSize / 2) + 1).Should().HaveCount(ChunkSize);
        pool.RentArray(ChunkSize * 3).Should().HaveCount(ChunkSize * 3, "a chunk written with a larger chunk size is read whole");
        pool.RentArray(100).Length.Should().BeInRange(100, ChunkSize / 2);
    }

    [Test]
    public void A_lease_through_MemoryPool_gives_its_buffer_back_once()
    {
        using var pool = new ChunkBufferPool(ChunkSize, retained: 2, uploadExtras: 2);
        var lease = pool.Rent(ChunkSize);
        var memory = lease.Memory;
        memory.Length.Should().Be(ChunkSize);

        lease.Dispose();
        lease.Dispose();

        var first = pool.RentArray(ChunkSize);
        var second = pool.RentArray(ChunkSize);
        new[] { first, second }.Count(buffer => memory.Span.Overlaps(buffer)).Should().Be(1, "a second Dispose must not return the buffer twice");
        FluentActions.Invoking(() => lease.Memory).Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public void Extra_upload_buffers_are_allowed_up_to_the_pools_allowance_and_come_back()
    {
        using var pool = new ChunkBufferPool(ChunkSize, retained: 2, uploadExtras: 2);

        pool.TryTakeUploadExtra().Should().BeTrue();
        pool.TryTakeUploadExtra().Should().BeTrue();
        pool.TryTakeUploadExtra().Should().BeFalse("two extra chunk buffers are out already");
        pool.UploadExtrasTaken.Should().Be(2);

        pool.ReturnUploadExtra();
        pool.TryTakeUploadExtra().Should().BeTrue("one came back");
        pool.ReturnUploadExtra();
        pool.ReturnUploadExtra();
        pool.UploadExtrasTaken.Should().Be(0);
    }

    [Test]
    public async Task Slices_are_shared_by_every_thread_and_kept_up_to_their_own_retention()
    {
        const int Slice = 64 * 1024;
        using var pool = new ChunkBufferPool(ChunkSize, retained: 2, uploadExtras: 2, sliceSize: Slice, retainedSlices: 2, extraSlices: 1);
        var rented = Enumerable.Range(0, 3).Select(_ => pool.RentSlice()).ToList();
        rented.Should().OnlyContain(slice => slice.Length == Slice);
        await Task.Run(() => rented.ForEach(pool.ReturnSlice));

        var again = await Task.Run(() => Enumerable.Range(0, 3).Select(_ => pool.RentSlice()).ToList());

        again.Count(slice => rented.Contains(slice)).Should().Be(2, "two slices are retained, the third went to the collector");
        var chunkBuffer = pool.RentArray(ChunkSize);
        rented.Should().NotContain(chunkBuffer, "slices and chunk buffers are kept apart");
    }

    [Test]
    public async Task Piece_buffers_are_shared_by_every_thread_and_kept_up_to_their_own_retention()
    {
        using var pool = new ChunkBufferPool(ChunkSize, retained: 2, uploadExtras: 2, sliceSize: 4096, retainedSlices: 2, retainedPieces: 2);
        var rented = Enumerable.Range(0, 3).Select(_ => pool.RentPiece()).ToList();
        rented.Should().OnlyContain(piece => piece.Length == ChunkBufferPool.PieceSize);
        await Task.Run(() => rented.ForEach(pool.ReturnPiece));

        var again = await Task.Run(() => Enumerable.Range(0, 3).Select(_ => pool.RentPiece()).ToList());

        again.Count(piece => rented.Contains(piece)).Should().Be(2, "two piece buffers are retained, whichever thread gave them back; the third went to the collector");
        rented.Should().NotContain(pool.RentSlice(), "pieces and slices are kept apart");
    }

    [Test]
    public void Extra_slices_are_allowed_up_to_the_pools_allowance_and_come_back()
    {
        using var pool = new ChunkBufferPool(ChunkSize, retained: 2, uploadExtras: 2, sliceSize: 4096, retainedSlices: 2, extraSlices: 2);

        pool.TryTakeExtraSlice().Should().BeTrue();
        pool.TryTakeExtraSlice().Should().BeTrue();
        pool.TryTakeExtraSlice().Should().BeFalse("two extra slices are out already");
        pool.ExtraSlicesTaken.Should().Be(2);
        pool.TryTakeUploadExtra().Should().BeTrue("the chunk buffers' allowance is another");

        pool.ReturnExtraSlice();
        pool.ReturnExtraSlice();
        pool.ExtraSlicesTaken.Should().Be(0);
    }
}
