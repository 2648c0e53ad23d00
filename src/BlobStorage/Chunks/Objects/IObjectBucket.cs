namespace BlobStorage.Chunks.Objects;

/// <summary>
/// The few operations <see cref="ObjectChunkStore"/> needs from a cloud object store (an Azure Blob Storage container,
/// an S3 bucket). An implementation retries transient failures itself and turns what is left of them (and a missing
/// container or bucket, or refused credentials) into a <see cref="Abstractions.BlobStorageException"/> with
/// <see cref="Abstractions.BlobErrorCode.StoreUnavailable"/>; a missing object is an answer, never an error.
/// </summary>
internal interface IObjectBucket
{
    /// <summary>Where the objects are, for messages (the container's or bucket's address, no credentials).</summary>
    string Location { get; }

    /// <summary>The object's Last-Modified time; null when there is no object of that key.</summary>
    ValueTask<DateTimeOffset?> GetLastModifiedAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Creates the object from <paramref name="head"/> followed by <paramref name="content"/>, unless an object of that key
    /// exists; false, writing nothing, when one does. The object is durable when this returns true.
    /// </summary>
    ValueTask<bool> CreateAsync(string key, ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>
    /// Opens bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="length"/> of an object (to its end
    /// when <paramref name="length"/> is null) and hands the body to <paramref name="consume"/>: null when there is no
    /// object of that key, an empty stream when the object ends before <paramref name="offset"/>. A transient failure in
    /// the request or while <paramref name="consume"/> reads the body runs the whole of it again; <paramref name="consume"/>
    /// throws a <see cref="Abstractions.BlobStorageException"/> to stop that.
    /// </summary>
    ValueTask<T> ReadAsync<T>(string key, long offset, long? length, Func<Stream?, CancellationToken, ValueTask<T>> consume, CancellationToken cancellationToken);

    /// <summary>Deletes the object; false when there was none.</summary>
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>The keys that start with <paramref name="prefix"/>, a page of the listing at a time.</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken);
}
