using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// What a copy is, the same in every metadata store: which source may be copied, and the record the destination gets
/// (the source's content and chunks, the request's overrides, the destination's creation time kept across an overwrite).
/// </summary>
internal static class BlobCopies
{
    /// <summary>Checks the source's conditions, and refuses a source that is offline.</summary>
    /// <exception cref="PreconditionFailedException">A source condition does not hold.</exception>
    /// <exception cref="BlobArchivedException">The source is in <see cref="StorageClass.ColdArchive"/>.</exception>
    public static void CheckSource(BlobCopyRequest request, BlobRecord source)
    {
        request.Options.SourceConditions?.Check(request.SourceContainer, request.SourceName, source.Properties.ETag, source.Properties.LastModified);
        if (source.Properties.StorageClass == StorageClass.ColdArchive)
        {
            // Offline: its content cannot be read, so it cannot be copied either (as Azure's archive tier).
            throw new BlobArchivedException(request.SourceContainer, request.SourceName, source.Properties.RehydratingTo);
        }
    }

    /// <summary>The destination's record; <paramref name="tags"/> and <paramref name="metadata"/> are the validated overrides, or null.</summary>
    public static BlobRecord Record(
        BlobCopyRequest request,
        BlobRecord source,
        BlobRecord? current,
        IReadOnlyDictionary<string, string>? tags,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var options = request.Options;
        var s = source.Properties;
        return new BlobRecord(
            new BlobProperties
            {
                Container = request.DestinationContainer,
                Name = request.DestinationName,
                VersionId = request.VersionId,
                Size = s.Size,
                ContentType = options.ContentType ?? s.ContentType,
                ETag = request.ETag,
                ContentHash = s.ContentHash,
                StorageClass = options.StorageClass ?? s.StorageClass,
                CreatedOn = current?.Properties.CreatedOn ?? request.Now,
                LastModified = request.Now,
                Tags = tags ?? s.Tags,
                Metadata = metadata ?? s.Metadata,

                // The content hash of a multipart blob is its composite hash, which names the part count.
                PartCount = s.PartCount,
            },
            source.Chunks);
    }
}
