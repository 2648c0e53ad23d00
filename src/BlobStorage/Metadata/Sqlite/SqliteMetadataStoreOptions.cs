using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>Settings of <see cref="SqliteMetadataStore"/>.</summary>
public sealed class SqliteMetadataStoreOptions
{
    /// <summary>The database file. It is created, with its folder, when missing; its write-ahead log lives beside it. Required.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>How hard commits are flushed. Default <see cref="SynchronousMode.Full"/>: nothing acknowledged is lost on power failure.</summary>
    public SynchronousMode SynchronousMode { get; init; } = SynchronousMode.Full;

    /// <summary>
    /// How long a call waits for a lock another connection holds on the database before it fails with
    /// <see cref="BlobErrorCode.StoreBusy"/>, changing nothing. Rounded up to whole seconds; must be positive. Default 30 s.
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
