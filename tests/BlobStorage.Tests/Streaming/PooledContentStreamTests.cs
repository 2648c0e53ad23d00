using System.Buffers;
using BlobStorage.Internal;
using FluentAssertions;
using NUnit.Framework;

namespace BlobStorage.Tests.Streaming;

public sealed class PooledContentStreamTests
{
    [Test]
    public void The_stream_yields_its_part_of_the_array_in_reads_of_any_size()
    {
        var rented = Rented(3000, out var bytes);
        using var stream = new PooledContentStream(rented, offset: 100, length: 2000);

        stream.Length.Should().Be(2000);
        var first = new byte[7];
        stream.Read(first, 0, 7).Should().Be(7);
        stream.ReadByte().Should().Be(bytes[107]);
        var rest = new MemoryStream();
        stream.CopyTo(rest);

        first.Should().Equal(bytes.AsSpan(100, 7).ToArray());
        rest.ToArray().Should().Equal(bytes.AsSpan(108, 1992).ToArray());
        stream.Read(new byte[10]).Should().Be(0);
        stream.ReadByte().Should().Be(-1);
    }

    [Test]
    public async Task Seeks_move_within_the_part_and_reads_past_its_end_yield_nothing()
    {
        var rented = Rented(3000, out var bytes);
        await using var stream = new PooledContentStream(rented, offset: 10, length: 100);

        stream.Seek(-5, SeekOrigin.End).Should().Be(95);
        var tail = new byte[20];
        (await stream.ReadAsync(tail)).Should().Be(5);
        tail.AsSpan(0, 5).ToArray().Should().Equal(bytes.AsSpan(105, 5).ToArray());

        stream.Position = 500;
        (await stream.ReadAsync(tail)).Should().Be(0, "a position past the end reads nothing, as in a MemoryStream");
        stream.Seek(-490, SeekOrigin.Current).Should().Be(10);
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        copy.ToArray().Should().Equal(bytes.AsSpan(20, 90).ToArray());

        FluentActions.Invoking(() => stream.Seek(-1, SeekOrigin.Begin)).Should().Throw<IOException>();
        FluentActions.Invoking(() => stream.Write(new byte[1], 0, 1)).Should().Throw<NotSupportedException>();
        stream.CanWrite.Should().BeFalse();
    }

    [Test]
    public void A_disposed_stream_refuses_every_read_and_returns_its_array_to_the_pool_once()
    {
        // A size of its own bucket, on this thread only: the shared pool hands this thread's last returned array back first.
        var rented = ArrayPool<byte>.Shared.Rent(1500);
        var stream = new PooledContentStream(rented, 0, 1500);

        stream.Dispose();
        stream.Dispose();

        stream.CanRead.Should().BeFalse();
        stream.CanSeek.Should().BeFalse();
        FluentActions.Invoking(() => stream.Read(new byte[1])).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => stream.ReadByte()).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => stream.Length).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => stream.CopyTo(Stream.Null)).Should().Throw<ObjectDisposedException>();
        var again = ArrayPool<byte>.Shared.Rent(1500);
        var next = ArrayPool<byte>.Shared.Rent(1500);
        again.Should().BeSameAs(rented, "disposing gave the array back");
        next.Should().NotBeSameAs(rented, "it was given back once, not twice");
        ArrayPool<byte>.Shared.Return(again);
        ArrayPool<byte>.Shared.Return(next);
    }

    [Test]
    public void A_part_outside_the_array_is_refused()
    {
        var rented = new byte[100];
        FluentActions.Invoking(() => new PooledContentStream(rented, 50, 51)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PooledContentStream(rented, -1, 10)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PooledContentStream(rented, 0, -1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private static byte[] Rented(int length, out byte[] bytes)
    {
        bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        bytes.CopyTo(rented, 0);
        return rented;
    }
}
