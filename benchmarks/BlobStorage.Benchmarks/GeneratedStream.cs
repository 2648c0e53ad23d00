using System.Buffers.Binary;

namespace BlobStorage.Benchmarks;

/// <summary>
/// A read-only, seekable stream of <see cref="Length"/> deterministic pseudo-random bytes. Each
/// 8-byte word is a pure function of the seed and its index (SplitMix64), so bytes are produced
/// straight into the caller's buffer, any read size yields the same sequence, and no large array
/// is ever held. The content does not repeat, so deduplication cannot shortcut a benchmark.
/// </summary>
public sealed class GeneratedStream : Stream
{
    private readonly long _length;
    private readonly ulong _seed;
    private long _position;

    /// <summary>Creates a stream of <paramref name="length"/> bytes determined by <paramref name="seed"/>.</summary>
    public GeneratedStream(long length, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _length = length;
        _seed = seed;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

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
        var count = (int)Math.Clamp(_length - _position, 0, buffer.Length);
        Fill(_seed, _position, buffer[..count]);
        _position += count;
        return count;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read(buffer.AsSpan(offset, count)));
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Writes the bytes at <paramref name="position"/> of the sequence for <paramref name="seed"/> into <paramref name="destination"/>.</summary>
    public static void Fill(ulong seed, long position, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        var word = (ulong)position / 8;
        var skip = (int)((ulong)position % 8);
        Span<byte> scratch = stackalloc byte[8];

        // A leading partial word, when the position is not word-aligned.
        if (skip != 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch, Mix(seed, word++));
            var take = Math.Min(8 - skip, destination.Length);
            scratch.Slice(skip, take).CopyTo(destination);
            destination = destination[take..];
        }

        // Whole words, straight into the destination.
        while (destination.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination, Mix(seed, word++));
            destination = destination[8..];
        }

        // A trailing partial word.
        if (!destination.IsEmpty)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch, Mix(seed, word));
            scratch[..destination.Length].CopyTo(destination);
        }
    }

    // SplitMix64 of (seed, index): a bijective mix with good statistical quality at about a
    // nanosecond per word, far faster than any disk the bytes are written to.
    private static ulong Mix(ulong seed, ulong index)
    {
        var z = (seed * 0xD1B54A32D192ED03UL) + ((index + 1) * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
