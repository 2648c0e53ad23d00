using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// Checks a completion's parts against the parts stored for the upload and joins them, in the order named: the rule every
/// metadata store applies inside its completion transaction, so each refuses the same parts with the same message.
/// </summary>
internal static class MultipartAssembly
{
    /// <summary>The blob's chunk list, content hash (<see cref="MultipartHash"/>) and size.</summary>
    /// <exception cref="InvalidPartException">A part is missing, its ETag differs, or it is too small and not the last.</exception>
    public static (List<ChunkReference> Chunks, string ContentHash, long Size) Assemble(
        MultipartCompletion completion,
        string uploadId,
        IReadOnlyDictionary<int, (UploadedPart Part, ChunkReference[] Chunks)> stored)
    {
        var chunks = new List<ChunkReference>();
        var hashes = new List<string>(completion.Parts.Count);
        long size = 0;
        for (var i = 0; i < completion.Parts.Count; i++)
        {
            var given = completion.Parts[i];
            if (!stored.TryGetValue(given.PartNumber, out var part))
            {
                throw new InvalidPartException($"Part {given.PartNumber} was never uploaded to upload '{uploadId}'.", given.PartNumber);
            }

            if (!BlobRequestConditions.ETagEquals(given.ETag, part.Part.ETag))
            {
                throw new InvalidPartException($"Part {given.PartNumber} of upload '{uploadId}' has ETag {part.Part.ETag}, not {given.ETag}: it was replaced or the ETag is wrong.", given.PartNumber);
            }

            if (i < completion.Parts.Count - 1 && part.Part.Size < completion.MinimumPartSize)
            {
                throw new InvalidPartException($"Part {given.PartNumber} of upload '{uploadId}' holds {part.Part.Size} bytes; every part but the last must hold at least {completion.MinimumPartSize}.", given.PartNumber);
            }

            chunks.AddRange(part.Chunks);
            hashes.Add(part.Part.ContentHash);
            size += part.Part.Size;
        }

        return (chunks, MultipartHash.Composite(hashes), size);
    }
}
