namespace BlobStorage.Abstractions;

/// <summary>A blob as the metadata store keeps it: its properties and its chunk list, in order.</summary>
/// <param name="Properties">The blob's properties.</param>
/// <param name="Chunks">The chunks whose concatenation is the content.</param>
public sealed record BlobRecord(BlobProperties Properties, IReadOnlyList<ChunkReference> Chunks)
{
    /// <summary>
    /// The whole content of a small blob kept in the metadata store instead of chunks (then
    /// <see cref="Chunks"/> is empty), or null. A store that keeps it verifies it on every read.
    /// </summary>
    public byte[]? InlineContent { get; init; }
}
