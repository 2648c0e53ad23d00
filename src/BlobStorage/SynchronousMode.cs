namespace BlobStorage;

/// <summary>How hard the metadata store flushes its commits.</summary>
public enum SynchronousMode
{
    /// <summary>Every commit is flushed before it is acknowledged: nothing acknowledged is lost on power failure. The default.</summary>
    Full = 0,

    /// <summary>The write-ahead log is flushed at checkpoints only: a power failure may lose the last commits (never corrupt the store). A process crash loses nothing.</summary>
    Normal = 1,
}
