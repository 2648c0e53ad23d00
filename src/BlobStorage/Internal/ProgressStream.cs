namespace BlobStorage.Internal;

/// <summary>
/// A read-only stream over another that reports the bytes read so far to an <see cref="IProgress{T}"/>: whenever
/// another <paramref name="interval"/> bytes (at most <see cref="Interval"/>) have passed (a read is cut to end there), and
/// once more when the inner stream ends or <paramref name="expectedLength"/> bytes have been read.
/// </summary>
internal sealed class ProgressStream(Stream inner, IProgress<long> progress, long expectedLength = -1, long interval = ProgressStream.Interval) : Stream
{
    public const long Interval = 1024 * 1024;

    private long _position;
    private long _reported;
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        buffer = buffer[..Allowed(buffer.Length)];
        return Advance(inner.Read(buffer), buffer.Length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        buffer = buffer[..Allowed(buffer.Length)];
        return Advance(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);
    }

    /// <summary>At most up to the next report, so that one large read cannot pass a MiB unreported.</summary>
    private int Allowed(int asked) => (int)Math.Min(asked, interval - (_position - _reported));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Advance(int read, int asked)
    {
        _position += read;
        if ((read == 0 && asked > 0) || _position == expectedLength)
        {
            if (!_ended)
            {
                _ended = true;
                _reported = _position;
                progress.Report(_position);
            }
        }
        else if (_position - _reported >= interval)
        {
            _reported = _position;
            progress.Report(_position);
        }

        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
