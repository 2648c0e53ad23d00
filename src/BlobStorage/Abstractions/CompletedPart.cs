namespace BlobStorage.Abstractions;

/// <summary>A part named in <c>CompleteMultipartUploadAsync</c>: its number and the ETag its upload returned.</summary>
/// <param name="PartNumber">The part's number.</param>
/// <param name="ETag">The ETag the part's upload returned.</param>
public sealed record CompletedPart(int PartNumber, string ETag);
