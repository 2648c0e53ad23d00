using System.Buffers.Binary;

namespace BlobStorage.Tests.Streaming;

/// <summary>
/// A read-only stream of deterministic pseudo-random bytes of any length, made as it is read, like
/// <see cref="Support.GeneratedStream"/> but eight bytes per xorshift64* step instead of one, so a
/// gigabyte costs well under a second. Two streams with the same seed yield the same bytes however
/// they are read.
/// </summary>
public sealed class FastGeneratedStream(long length, ulong seed = 0x9E3779B97F4A7C15) : Stream
{
    private long _position;
    private ulong _state = seed == 0 ? 1 : seed;

    // The word the position is inside of, while the position is not a multiple of 8.
    private ulong _word;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        var destination = buffer[..count];

        // The rest of a word started by the previous read.
        var inWord = (int)(_position & 7);
        if (inWord != 0 && destination.Length > 0)
        {
            Span<byte> word = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(word, _word);
            var take = Math.Min(8 - inWord, destination.Length);
            word.Slice(inWord, take).CopyTo(destination);
            destination = destination[take..];
        }

        while (destination.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination, Next());
            destination = destination[8..];
        }

        if (destination.Length > 0)
        {
            _word = Next();
            Span<byte> word = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(word, _word);
            word[..destination.Length].CopyTo(destination);
        }

        _position += count;
        return count;
    }

    private ulong Next()
    {
        // xorshift64*: cheap and deterministic; the state never becomes zero.
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1DUL;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
