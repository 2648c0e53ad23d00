using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using BlobStorage.Internal;

namespace BlobStorage.Abstractions;

/// <summary>
/// The name of a stored chunk: a 256-bit cryptographic hash of its bytes, either their SHA-256 or their BLAKE3 hash.
/// </summary>
/// <remarks>
/// The store names the chunk of a blob smaller than a chunk (or of a multipart part smaller than a chunk) by its
/// SHA-256, the content hash the upload computes anyway; it names the chunks of larger blobs and parts by BLAKE3, about four times as fast, so that a large upload
/// hashes each byte with SHA-256 once, for the blob's content hash, and not twice. Stores written before BLAKE3 names
/// keep their SHA-256 names, and both kinds are read and verified alike (<see cref="Matches"/>).
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly struct ChunkId : IEquatable<ChunkId>, IComparable<ChunkId>
{
    /// <summary>The size of a chunk id in bytes.</summary>
    public const int Size = 32;

    private readonly ulong _a, _b, _c, _d;

    /// <summary>Creates a chunk id from its 32 bytes.</summary>
    public ChunkId(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != Size)
        {
            throw new ArgumentException($"A chunk id is {Size} bytes (a SHA-256 or BLAKE3 hash); {sha256.Length} were given.", nameof(sha256));
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(sha256);
        _b = BinaryPrimitives.ReadUInt64BigEndian(sha256[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(sha256[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(sha256[24..]);
    }

    /// <summary>Computes the SHA-256 id of the given content: the name the store gives a chunk that holds a whole blob.</summary>
    public static ChunkId Compute(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[Size];
        SHA256.HashData(content, hash);
        return new ChunkId(hash);
    }

    /// <summary>Computes the BLAKE3 id of the given content: the name the store gives each chunk of a blob of several chunks.</summary>
    internal static ChunkId ComputeBlake3(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[Size];
        Blake3Hasher.Hash(content, hash);
        return new ChunkId(hash);
    }

    /// <summary>
    /// True when <paramref name="content"/> is the chunk this id names: its BLAKE3 hash or its SHA-256 is the id. A chunk
    /// store that checks what it is given or what it reads checks it this way.
    /// </summary>
    public bool Matches(ReadOnlySpan<byte> content) => ComputeBlake3(content) == this || Compute(content) == this;

    /// <summary>Parses the 64 hexadecimal characters <see cref="ToString"/> writes.</summary>
    public static ChunkId Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        return TryParse(hex, out var id)
            ? id
            : throw new FormatException($"A chunk id is 64 hexadecimal characters; '{hex}' is not.");
    }

    /// <summary>Parses 64 hexadecimal characters; false when the text is not one.</summary>
    public static bool TryParse(ReadOnlySpan<char> hex, out ChunkId id)
    {
        Span<byte> bytes = stackalloc byte[Size];
        if (hex.Length != Size * 2 || Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            id = default;
            return false;
        }

        id = new ChunkId(bytes);
        return true;
    }

    /// <summary>Writes the 32 bytes of the id.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>The 32 bytes of the id in a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>The id as 64 lowercase hexadecimal characters.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <inheritdoc />
    public bool Equals(ChunkId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ChunkId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    /// <inheritdoc />
    public int CompareTo(ChunkId other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

    /// <summary>Equality of ids.</summary>
    public static bool operator ==(ChunkId left, ChunkId right) => left.Equals(right);

    /// <summary>Inequality of ids.</summary>
    public static bool operator !=(ChunkId left, ChunkId right) => !left.Equals(right);

    /// <summary>Ordering of ids.</summary>
    public static bool operator <(ChunkId left, ChunkId right) => left.CompareTo(right) < 0;

    /// <summary>Ordering of ids.</summary>
    public static bool operator >(ChunkId left, ChunkId right) => left.CompareTo(right) > 0;

    /// <summary>Ordering of ids.</summary>
    public static bool operator <=(ChunkId left, ChunkId right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering of ids.</summary>
    public static bool operator >=(ChunkId left, ChunkId right) => left.CompareTo(right) >= 0;

    /// <summary>The first byte of the id, used to shard chunk folders.</summary>
    internal byte FirstByte
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (byte)(_a >> 56);
    }
}
