using System.Security.Cryptography;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// Where every peer's get writes: a write-only stream that keeps nothing. For <c>get</c> it hashes
/// (SHA-256) the bytes as they arrive, so every peer's reads are checked the same way and pay the
/// same for it; for <c>get-raw</c> it only counts them, showing what a read costs before any check.
/// </summary>
internal sealed class VerifyingSink(bool hashing) : Stream
{
    private readonly IncrementalHash? _hash = hashing ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    private long _length;
    private int _firstByte = -1;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <summary>Starts a new blob.</summary>
    public void Begin() => (_length, _firstByte) = (0, -1);

    /// <summary>Checks that exactly one byte arrived since <see cref="Begin"/>, and that it is <paramref name="expected"/> (a one-byte range read).</summary>
    /// <exception cref="InvalidDataException">Another length or another byte arrived.</exception>
    public void VerifyByte(string name, long offset, byte expected)
    {
        if (_length != 1 || _firstByte != expected)
        {
            throw new InvalidDataException($"A 1-byte range of '{name}' at {offset} returned {_length} bytes, starting with {_firstByte}; one byte, {expected}, was put there.");
        }
    }

    /// <summary>Checks the length and, when hashing, the SHA-256 against what was put.</summary>
    /// <exception cref="InvalidDataException">The bytes read are not the bytes put.</exception>
    public void Verify(string name, ReadOnlySpan<byte> expectedHash, long expectedLength)
    {
        Span<byte> actual = stackalloc byte[32];
        if (_hash is null)
        {
            expectedHash.CopyTo(actual);
        }
        else
        {
            _hash.GetHashAndReset(actual);
        }

        if (_length != expectedLength || !actual.SequenceEqual(expectedHash))
        {
            throw new InvalidDataException(
                $"Get of '{name}' returned {_length} bytes with SHA-256 {Convert.ToHexStringLower(actual)}; " +
                $"{expectedLength} bytes with SHA-256 {Convert.ToHexStringLower(expectedHash)} were put.");
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash?.AppendData(buffer);
        if (_length == 0 && !buffer.IsEmpty) _firstByte = buffer[0];
        _length += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash?.Dispose();
        }

        base.Dispose(disposing);
    }
}
