using System.Buffers;

namespace BlobStorage.Internal;

/// <summary>
/// A read-only, seekable stream over part of an array rented from <see cref="ArrayPool{T}.Shared"/>,
/// which it owns: disposing it returns the array, after which every read throws
/// <see cref="ObjectDisposedException"/> rather than touch an array someone else may hold.
/// </summary>
internal sealed class PooledContentStream : Stream
{
    private readonly int _offset;
    private readonly int _length;
    private byte[]? _rented;
    private long _position;

    /// <param name="rented">The array, rented from the shared pool; the stream returns it.</param>
    /// <param name="offset">Where the stream's bytes start in it.</param>
    /// <param name="length">How many bytes the stream yields.</param>
    public PooledContentStream(byte[] rented, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(rented);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, rented.Length - offset);
        _rented = rented;
        _offset = offset;
        _length = length;
    }

    public override bool CanRead => _rented is not null;

    public override bool CanSeek => _rented is not null;

    public override bool CanWrite => false;

    public override long Length
    {
        get
        {
            Content();
            return _length;
        }
    }

    public override long Position
    {
        get
        {
            Content();
            return _position;
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Content();
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer)
    {
        var remaining = Remaining(buffer.Length);
        remaining.CopyTo(buffer);
        _position += remaining.Length;
        return remaining.Length;
    }

    public override int ReadByte()
    {
        var next = Remaining(1);
        if (next.IsEmpty) return -1;
        _position++;
        return next[0];
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return cancellationToken.IsCancellationRequested ? Task.FromCanceled<int>(cancellationToken) : Task.FromResult(Read(buffer.AsSpan(offset, count)));
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : ValueTask.FromResult(Read(buffer.Span));

    public override void CopyTo(Stream destination, int bufferSize)
    {
        ValidateCopyToArguments(destination, bufferSize);
        var content = Content();
        var remaining = RemainingRange(int.MaxValue);
        _position += remaining.Length;
        destination.Write(content, remaining.Offset, remaining.Length);
    }

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ValidateCopyToArguments(destination, bufferSize);
        var content = Content();
        var remaining = RemainingRange(int.MaxValue);
        _position += remaining.Length;
        await destination.WriteAsync(content.AsMemory(remaining.Offset, remaining.Length), cancellationToken).ConfigureAwait(false);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Content();
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "The origin must be Begin, Current or End."),
        };
        if (target < 0) throw new IOException("A seek may not move before the start of the stream.");
        return _position = target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException("A blob download stream is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A blob download stream is read-only.");

    protected override void Dispose(bool disposing)
    {
        // Once only, whichever thread gets here first.
        if (Interlocked.Exchange(ref _rented, null) is { } rented) ArrayPool<byte>.Shared.Return(rented);
        base.Dispose(disposing);
    }

    private byte[] Content() => _rented ?? throw new ObjectDisposedException(nameof(PooledContentStream), "The download's stream was disposed.");

    private ReadOnlySpan<byte> Remaining(int atMost)
    {
        var content = Content();
        var (offset, length) = RemainingRange(atMost);
        return content.AsSpan(offset, length);
    }

    private (int Offset, int Length) RemainingRange(int atMost)
    {
        var start = (int)Math.Min(_position, _length);
        return (_offset + start, Math.Min(_length - start, atMost));
    }
}
