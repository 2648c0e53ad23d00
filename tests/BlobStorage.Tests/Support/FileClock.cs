using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Support;

/// <summary>
/// Chunk files carry the real time they were written, while a test's store runs on a fake clock that
/// starts in the past. An orphan chunk file is deleted only once it is older than the grace period by
/// the store's clock: these move the fake clock past the real time of every file written so far.
/// </summary>
public static class FileClock
{
    /// <summary>
    /// Moves the clock the grace period and a minute past both its own time and the real time now, so that every
    /// chunk file written so far, and every chunk released so far, counts as old.
    /// </summary>
    public static void PassGracePeriodOfFiles(this FakeTimeProvider time, TimeSpan? gracePeriod = null)
    {
        var now = time.GetUtcNow();
        var real = DateTimeOffset.UtcNow;
        time.SetUtcNow((real > now ? real : now) + (gracePeriod ?? TimeSpan.FromMinutes(15)) + TimeSpan.FromMinutes(1));
    }

    /// <summary>Dates a file to the given time of the store's clock (a chunk file written then, as far as the store can tell).</summary>
    public static void SetWrittenAt(string path, DateTimeOffset when) => File.SetLastWriteTimeUtc(path, when.UtcDateTime);
}
