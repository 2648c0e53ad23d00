namespace BlobStorage.Abstractions;

/// <summary>A part as the metadata store keeps it: which upload, the part, and its chunks.</summary>
/// <param name="UploadId">The upload the part belongs to.</param>
/// <param name="Part">The part.</param>
/// <param name="Chunks">The chunks whose concatenation is the part.</param>
public sealed record PartRecord(string UploadId, UploadedPart Part, IReadOnlyList<ChunkReference> Chunks);
