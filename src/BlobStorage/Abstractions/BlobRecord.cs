namespace BlobStorage.Abstractions;

/// <summary>A blob as the metadata store keeps it: its properties and its chunk list, in order.</summary>
/// <param name="Properties">The blob's properties.</param>
/// <param name="Chunks">The chunks whose concatenation is the content.</param>
public sealed record BlobRecord(BlobProperties Properties, IReadOnlyList<ChunkReference> Chunks)
{
    /// <summary>
    /// The whole content of a small blob kept in the metadata store instead of chunks (then
    /// <see cref="Chunks"/> is empty), or null; empty for an empty blob kept so. A store that keeps it
    /// verifies it on every read.
    /// </summary>
    /// <remarks>
    /// In a record given to <see cref="IMetadataStore.CommitBlobAsync"/>, the memory stays the caller's: the store
    /// copies the bytes it keeps before the call completes, and the caller may reuse the memory afterwards (the
    /// engine passes a pooled buffer). A record a store returns from a read owns its memory.
    /// <para>
    /// A null array converts to empty memory, not to null: set a value read as <c>byte[]?</c> with
    /// <c>array is null ? null : (ReadOnlyMemory&lt;byte&gt;?)array</c>, or a blob without inline content would
    /// read as an empty one.
    /// </para>
    /// </remarks>
    public ReadOnlyMemory<byte>? InlineContent { get; init; }
}
