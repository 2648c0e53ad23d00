using System.Security.Cryptography;

namespace BlobStorage.Tests.Support;

public static class Streams
{
    /// <summary>Deterministic pseudo-random bytes from a seed.</summary>
    public static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    public static async Task<byte[]> DownloadBytesAsync(this IBlobStore store, string container, string name, Abstractions.BlobDownloadOptions? options = null)
    {
        await using var download = await store.DownloadAsync(container, name, options);
        return await ReadAllAsync(download.Content);
    }

    public static Task<Abstractions.BlobProperties> UploadBytesAsync(this IBlobStore store, string container, string name, byte[] content, Abstractions.BlobUploadOptions? options = null) =>
        store.UploadAsync(container, name, new MemoryStream(content, writable: false), options);
}

/// <summary>
/// A read-only stream of deterministic pseudo-random bytes of any length, made as it is read,
/// so a test can stream gigabytes without holding them.
/// </summary>
public sealed class GeneratedStream(long length, ulong seed = 0x9E3779B97F4A7C15) : Stream
{
    private long _position;
    private ulong _state = seed;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < count; i++)
        {
            // xorshift64*: cheap, deterministic, position-dependent only through the sequence.
            _state ^= _state >> 12;
            _state ^= _state << 25;
            _state ^= _state >> 27;
            buffer[i] = (byte)((_state * 0x2545F4914F6CDD1DUL) >> 56);
        }

        _position += count;
        return count;
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
