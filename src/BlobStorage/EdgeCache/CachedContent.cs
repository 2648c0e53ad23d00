using BlobStorage.Abstractions;

namespace BlobStorage.EdgeCache;

/// <summary>
/// One blob version's bytes as an edge keeps them: immutable segments of 64 KiB, so a cached blob never
/// needs one large array (nothing lands on the large object heap) and a reader that opened it goes on
/// reading after the entry is evicted.
/// </summary>
internal sealed class CachedContent
{
    public const int SegmentSize = 64 * 1024;

    private readonly byte[][] _segments;

    private CachedContent(byte[][] segments, long length)
    {
        _segments = segments;
        Length = length;
    }

    public long Length { get; }

    /// <summary>Reads exactly <paramref name="length"/> bytes from the origin.</summary>
    public static async Task<CachedContent> ReadAsync(Stream source, long length, string container, string name, CancellationToken cancellationToken)
    {
        var segments = new byte[(int)((length + SegmentSize - 1) / SegmentSize)][];
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = new byte[(int)Math.Min(SegmentSize, length - ((long)i * SegmentSize))];
            try
            {
                await source.ReadExactlyAsync(segment, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException ex)
            {
                throw new DataCorruptionException($"The origin returned fewer than the {length} bytes of blob '{name}' in container '{container}'.", ex);
            }

            segments[i] = segment;
        }

        return new CachedContent(segments, length);
    }

    /// <summary>A stream of <paramref name="length"/> bytes from <paramref name="offset"/>.</summary>
    public Stream Open(long offset, long length) => new Reader(this, offset, length);

    private sealed class Reader(CachedContent content, long start, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set
            {
                ArgumentOutOfRangeException.ThrowIfNegative(value);
                _position = value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var copied = 0;
            while (copied < buffer.Length && _position < length)
            {
                var at = start + _position;
                var segment = content._segments[(int)(at / SegmentSize)];
                var within = (int)(at % SegmentSize);
                var n = (int)Math.Min(Math.Min(segment.Length - within, buffer.Length - copied), length - _position);
                segment.AsSpan(within, n).CopyTo(buffer[copied..]);
                copied += n;
                _position += n;
            }

            return copied;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                SeekOrigin.End => length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            return _position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException("A cached blob is read-only.");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A cached blob is read-only.");
    }
}
