namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// One store in the side-by-side comparison, reduced to what every peer can do: named blobs put
/// from a stream, read into a stream, counted by prefix and deleted. Each peer does it the way a
/// careful user of that technology would, with its own durability.
/// </summary>
internal interface IPeerStore : IAsyncDisposable
{
    /// <summary>The peer's name in the table and in <c>--peers</c>.</summary>
    string Name { get; }

    /// <summary>Whether a put that returned survives a power cut (every write flushed to disk).</summary>
    bool Durable { get; }

    /// <summary>One line on what a put does to reach the disk, and anything else a reader of the table must know.</summary>
    string Description { get; }

    /// <summary>The smallest blob size the peer is run at; below it the peer is another peer under a second name.</summary>
    long SmallestSize => 0;

    /// <summary>Stores <paramref name="content"/> (read to its end) under <paramref name="name"/>, replacing any blob of that name.</summary>
    ValueTask PutAsync(string name, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Writes the blob's bytes to <paramref name="destination"/>.</summary>
    ValueTask GetAsync(string name, Stream destination, CancellationToken cancellationToken = default);

    /// <summary>Whether the peer reads a byte range without reading the whole blob (<see cref="GetRangeAsync"/>).</summary>
    bool SupportsRanges => false;

    /// <summary>Writes <paramref name="length"/> bytes of the blob, from <paramref name="offset"/>, to <paramref name="destination"/>.</summary>
    /// <exception cref="NotSupportedException">The peer reads no ranges (<see cref="SupportsRanges"/> is false).</exception>
    ValueTask GetRangeAsync(string name, long offset, int length, Stream destination, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The peer '{Name}' reads no byte ranges.");

    /// <summary>Enumerates the names that start with <paramref name="prefix"/> and returns how many there are.</summary>
    ValueTask<int> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Removes the blob.</summary>
    ValueTask DeleteAsync(string name, CancellationToken cancellationToken = default);
}
