using Microsoft.Extensions.Logging;

namespace BlobStorage.Diagnostics;

/// <summary>Every log line BlobStorage writes, with fixed event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Blob store opened at {RootPath}; recovery removed {Orphans} unreferenced chunk file(s) and kept {Pending} younger than the grace period.")]
    public static partial void StoreOpened(ILogger logger, string rootPath, long orphans, long pending);

    [LoggerMessage(2, LogLevel.Debug, "Maintenance collected {Chunks} chunk(s), {Bytes} bytes, and removed {Orphans} orphan(s).")]
    public static partial void MaintenanceDone(ILogger logger, long chunks, long bytes, long orphans);

    [LoggerMessage(3, LogLevel.Error, "Maintenance pass failed; it will run again at the next interval.")]
    public static partial void MaintenanceFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Writing access counts failed; they are kept and written at the next flush.")]
    public static partial void AccessFlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Chunk {ChunkId} was bad on node {Node}; rewrote it from node {Source}.")]
    public static partial void ChunkRepaired(ILogger logger, string chunkId, string node, string source);

    [LoggerMessage(6, LogLevel.Error, "Chunk {ChunkId} is bad on node {Node} and could not be repaired.")]
    public static partial void ChunkRepairFailed(ILogger logger, Exception exception, string chunkId, string node);

    [LoggerMessage(7, LogLevel.Error, "Blob {Container}/{Name} could not be read: {Reason}")]
    public static partial void ReadFailed(ILogger logger, string container, string name, string reason);

    [LoggerMessage(8, LogLevel.Error, "Listing the chunk files at open failed; unreferenced chunk files are not removed until the next open.")]
    public static partial void OrphanSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Error, "{Orphans} of {Stored} stored chunk files are referenced by nothing: more than the {Share:P0} a pass may delete (MaxOrphanShare). None was deleted. Such a mismatch means the metadata does not belong with these chunks (a database restored from an older backup, say): check it, then raise MaxOrphanShare for one pass to delete them.")]
    public static partial void OrphanSweepHeld(ILogger logger, long orphans, long stored, double share);

    [LoggerMessage(10, LogLevel.Warning, "The disk is full: released the {Bytes}-byte reserve at {Path} so that space can be freed; it is taken again when maintenance finds room.")]
    public static partial void ReserveReleased(ILogger logger, long bytes, string path);

    [LoggerMessage(11, LogLevel.Warning, "Could not take the {Bytes}-byte disk reserve at {Path}; trying again at the next maintenance pass.")]
    public static partial void ReserveUnavailable(ILogger logger, Exception exception, long bytes, string path);

    [LoggerMessage(60, LogLevel.Information, "Blob {Container}/{Name} was rehydrated to {StorageClass} and is readable again.")]
    public static partial void BlobRehydrated(ILogger logger, string container, string name, Abstractions.StorageClass storageClass);

    [LoggerMessage(61, LogLevel.Error, "Rehydrating blob {Container}/{Name} failed; it stays offline and pending, and the next maintenance pass tries again.")]
    public static partial void RehydrationFailed(ILogger logger, Exception exception, string container, string name);

    [LoggerMessage(62, LogLevel.Information, "Lifecycle rules moved {Moved} blob(s) to colder classes and deleted {Deleted}; {Rehydrated} rehydration(s) completed.")]
    public static partial void TiersMaintained(ILogger logger, long moved, long deleted, long rehydrated);

    [LoggerMessage(63, LogLevel.Debug, "Maintenance runs as a hosted service every {Interval}; the store's own timer is off.")]
    public static partial void MaintenanceHosted(ILogger logger, TimeSpan interval);

    [LoggerMessage(64, LogLevel.Information, "The maintenance pass in progress was cancelled because the host is stopping.")]
    public static partial void MaintenanceCancelledByShutdown(ILogger logger);

    [LoggerMessage(20, LogLevel.Warning, "Dropping edge copies of {Container}/{Name} failed; edges still never serve a changed blob, as they check its version.")]
    public static partial void EdgeInvalidationFailed(ILogger logger, Exception exception, string container, string? name);

    [LoggerMessage(50, LogLevel.Warning, "Writing chunk {ChunkId} to node {Node} failed; the copy is queued for repair.")]
    public static partial void CopyWriteFailed(ILogger logger, Exception exception, string chunkId, string node);

    [LoggerMessage(51, LogLevel.Warning, "Deleting chunk {ChunkId} from node {Node} failed; the orphan sweep of a later open removes it.")]
    public static partial void CopyDeleteFailed(ILogger logger, Exception exception, string chunkId, string node);

    [LoggerMessage(52, LogLevel.Warning, "Copying chunk {ChunkId} to node {Node} failed (attempt {Attempts}); retrying at {NextAttempt:o}.")]
    public static partial void ReplicationRetry(ILogger logger, Exception exception, string chunkId, string node, int attempts, DateTimeOffset nextAttempt);

    [LoggerMessage(53, LogLevel.Information, "Dropped the queued copy of chunk {ChunkId} to node {Node}: {Reason}")]
    public static partial void ReplicationDropped(ILogger logger, string chunkId, string node, string reason);

    [LoggerMessage(54, LogLevel.Debug, "Replication queue: {Written} copies written, {Postponed} postponed, {Dropped} dropped, {Left} left.")]
    public static partial void ReplicationDone(ILogger logger, long written, long postponed, long dropped, long left);

    [LoggerMessage(55, LogLevel.Information, "Scrub checked {Copies} copies of {Chunks} chunks: {Corrupt} corrupt, {Missing} missing, {Repaired} repaired, {Unrecoverable} unrecoverable.")]
    public static partial void ScrubDone(ILogger logger, long copies, long chunks, long corrupt, long missing, long repaired, long unrecoverable);

    [LoggerMessage(56, LogLevel.Error, "Chunk {ChunkId} has no intact copy left on any node: {Reason}")]
    public static partial void ChunkUnrecoverable(ILogger logger, string chunkId, string reason);

    [LoggerMessage(57, LogLevel.Information, "Rebalance checked {Chunks} chunks: {Written} copies written to their new nodes, {Removed} removed from nodes that no longer own them.")]
    public static partial void RebalanceDone(ILogger logger, long chunks, long written, long removed);

    [LoggerMessage(58, LogLevel.Warning, "Upload of '{Name}' in container '{Container}' was refused by a busy metadata store (attempt {Attempt}) and is sent again from the start of its stream: {Reason}")]
    public static partial void UploadRetried(ILogger logger, string container, string name, int attempt, string reason);
}
