namespace BlobStorage.Abstractions;

/// <summary>What a <see cref="LifecycleRule"/> does to the blobs it matches.</summary>
public enum LifecycleAction
{
    /// <summary>Moves the blob to the rule's <see cref="LifecycleRule.StorageClass"/>, as <see cref="IBlobStore.SetStorageClassAsync"/> does.</summary>
    SetStorageClass = 0,

    /// <summary>Deletes the blob.</summary>
    Delete = 1,
}
