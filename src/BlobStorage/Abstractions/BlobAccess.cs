namespace BlobStorage.Abstractions;

/// <summary>Downloads of one blob gathered since the last flush.</summary>
/// <param name="Container">The blob's container.</param>
/// <param name="Name">The blob's name.</param>
/// <param name="VersionId">The version that was read: counts of a version since replaced only add to the read statistics.</param>
/// <param name="Count">How many downloads.</param>
/// <param name="Bytes">How many bytes they returned.</param>
/// <param name="LastAccessedOn">When the latest one began.</param>
public sealed record BlobAccess(string Container, string Name, string VersionId, long Count, long Bytes, DateTimeOffset LastAccessedOn);
