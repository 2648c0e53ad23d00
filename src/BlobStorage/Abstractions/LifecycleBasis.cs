namespace BlobStorage.Abstractions;

/// <summary>The time a <see cref="LifecycleRule"/> counts its days from.</summary>
public enum LifecycleBasis
{
    /// <summary>The blob's <see cref="BlobProperties.LastModified"/>.</summary>
    LastModified = 0,

    /// <summary>The blob's <see cref="BlobProperties.LastAccessedOn"/>, or its last modification when it was never downloaded.</summary>
    LastAccessed = 1,
}
