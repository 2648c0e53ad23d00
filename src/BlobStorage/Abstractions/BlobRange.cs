namespace BlobStorage.Abstractions;

/// <summary>A byte range of a blob: from an offset (to the end, or for a length), or the last N bytes.</summary>
public readonly record struct BlobRange
{
    private BlobRange(long offset, long? length, bool fromEnd)
    {
        Offset = offset;
        Length = length;
        IsSuffix = fromEnd;
    }

    /// <summary>Creates a range from <paramref name="offset"/>, of <paramref name="length"/> bytes or to the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset is negative or the length is not positive.</exception>
    public BlobRange(long offset, long? length = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(l, nameof(length));
        }

        Offset = offset;
        Length = length;
    }

    /// <summary>The last <paramref name="length"/> bytes of the blob (all of it when shorter).</summary>
    public static BlobRange Last(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return new BlobRange(0, length, fromEnd: true);
    }

    /// <summary>The first byte of the range; unused for a suffix range.</summary>
    public long Offset { get; }

    /// <summary>The number of bytes, or null for "to the end".</summary>
    public long? Length { get; }

    /// <summary>True when the range is the last <see cref="Length"/> bytes.</summary>
    public bool IsSuffix { get; }

    /// <summary>Resolves the range against a blob's size to an offset and a length.</summary>
    /// <exception cref="InvalidRangeException">The range starts at or past the end of the blob.</exception>
    internal (long Offset, long Length) Resolve(long size, string container, string name)
    {
        if (IsSuffix)
        {
            var length = Math.Min(Length!.Value, size);
            if (length == 0)
            {
                throw new InvalidRangeException($"The last {Length} bytes of blob '{name}' in container '{container}' cannot be read: it is empty.");
            }

            return (size - length, length);
        }

        if (Offset >= size)
        {
            throw new InvalidRangeException($"Range offset {Offset} lies past the end of blob '{name}' in container '{container}' ({size} bytes).");
        }

        return (Offset, Math.Min(Length ?? long.MaxValue, size - Offset));
    }
}
