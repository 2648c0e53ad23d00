namespace BlobStorage.Abstractions;

/// <summary>The totals of one container.</summary>
/// <param name="Name">The container's name.</param>
/// <param name="BlobCount">How many blobs it holds.</param>
/// <param name="TotalBytes">The sum of their sizes.</param>
public sealed record ContainerStatistics(string Name, long BlobCount, long TotalBytes);
