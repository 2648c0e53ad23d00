using Microsoft.Extensions.Logging;

namespace BlobStorage.Diagnostics;

/// <summary>Every log line BlobStorage writes, with fixed event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Blob store opened at {RootPath}; recovery removed {Orphans} unreferenced chunk file(s).")]
    public static partial void StoreOpened(ILogger logger, string rootPath, long orphans);

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

    [LoggerMessage(20, LogLevel.Warning, "Dropping edge copies of {Container}/{Name} failed; edges still never serve a changed blob, as they check its version.")]
    public static partial void EdgeInvalidationFailed(ILogger logger, Exception exception, string container, string? name);
}
