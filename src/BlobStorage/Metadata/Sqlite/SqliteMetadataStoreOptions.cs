namespace BlobStorage.Metadata.Sqlite;

/// <summary>Settings of <see cref="SqliteMetadataStore"/>.</summary>
public sealed class SqliteMetadataStoreOptions
{
    /// <summary>The database file; created with its folder's write-ahead log beside it. Required.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>How hard commits are flushed. Default <see cref="SynchronousMode.Full"/>: nothing acknowledged is lost on power failure.</summary>
    public SynchronousMode SynchronousMode { get; init; } = SynchronousMode.Full;

    /// <summary>How long a call waits for a lock another connection holds before failing with <see cref="Abstractions.BlobErrorCode.StoreBusy"/>. Default 30 s.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
