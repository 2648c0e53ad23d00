namespace BlobStorage.Abstractions;

/// <summary>What one maintenance pass did.</summary>
public sealed class MaintenanceReport
{
    /// <summary>Chunks removed after their grace period.</summary>
    public long ChunksCollected { get; init; }

    /// <summary>Bytes those chunks held.</summary>
    public long BytesReclaimed { get; init; }

    /// <summary>Chunk files no metadata referred to (left by a crash or a failed upload) that were removed.</summary>
    public long OrphansRemoved { get; init; }

    /// <summary>
    /// Unreferenced chunk files found and kept: younger than the grace period (a commit may still be on its
    /// way, in this process or another), or kept because deleting them would have removed more than
    /// <see cref="BlobStorageOptions.MaxOrphanShare"/> of the stored chunks at once (the log says so).
    /// </summary>
    public long OrphansPending { get; init; }

    /// <summary>Multipart uploads aborted because they were older than <c>AbortIncompleteMultipartUploadsAfter</c>.</summary>
    public long MultipartUploadsAborted { get; init; }

    /// <summary>Access counts written to the metadata store.</summary>
    public long AccessRecordsFlushed { get; init; }

    /// <summary>Copies written from the replication queue.</summary>
    public long ReplicasWritten { get; init; }

    /// <summary>Queued copies that failed (their node unreachable) and wait for a later attempt, with exponential backoff.</summary>
    public long ReplicasPostponed { get; init; }

    /// <summary>Queued copies dropped because nothing needs them any more (the chunk was collected, or its node left the topology).</summary>
    public long ReplicasDropped { get; init; }

    /// <summary>Copies still waiting in the replication queue after the pass.</summary>
    public long ReplicationQueueLength { get; init; }

    /// <summary>Copies the rebalance pass moved (written to their new node, or removed from a node that no longer owns them); it runs at the first pass after the store opens.</summary>
    public long CopiesRebalanced { get; init; }

    /// <summary>Blobs lifecycle rules moved to a colder storage class.</summary>
    public long BlobsMovedByLifecycle { get; init; }

    /// <summary>Blobs lifecycle rules deleted.</summary>
    public long BlobsDeletedByLifecycle { get; init; }

    /// <summary>ColdArchive blobs whose rehydration (asked for by <c>RehydrateAsync</c>) this pass completed: they read again.</summary>
    public long BlobsRehydrated { get; init; }

    /// <summary>True when this pass scrubbed (read and verified every referenced chunk), which it does every <see cref="BlobStorageOptions.ScrubInterval"/>.</summary>
    public bool Scrubbed { get; init; }

    /// <summary>Chunk references the scrub found missing or damaged beyond repair (see <c>VerifyAsync</c> for which); 0 when it did not run.</summary>
    public long ScrubProblems { get; init; }
}
