namespace BlobStorage.Abstractions;

/// <summary>How long the replication queue is.</summary>
/// <param name="Length">Copies waiting.</param>
/// <param name="OldestEnqueuedOn">When the oldest waiting copy was queued; null when none waits.</param>
public readonly record struct ReplicationQueueStatus(long Length, DateTimeOffset? OldestEnqueuedOn);
