namespace BlobStorage.Abstractions;

/// <summary>A blob being read: its properties and a stream of the requested bytes. Dispose it when done.</summary>
public sealed class BlobDownload : IAsyncDisposable, IDisposable
{
    internal BlobDownload(BlobProperties properties, Stream content, long offset, long length)
    {
        Properties = properties;
        Content = content;
        Offset = offset;
        Length = length;
    }

    /// <summary>The properties of the version being read.</summary>
    public BlobProperties Properties { get; }

    /// <summary>The bytes of the range, read chunk by chunk; every chunk is verified before a byte of it is returned.</summary>
    public Stream Content { get; }

    /// <summary>The offset of the first byte of <see cref="Content"/> within the blob.</summary>
    public long Offset { get; }

    /// <summary>The number of bytes <see cref="Content"/> yields.</summary>
    public long Length { get; }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Content.DisposeAsync();

    /// <inheritdoc />
    public void Dispose() => Content.Dispose();
}
