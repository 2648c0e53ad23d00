namespace BlobStorage.Metadata.Sqlite;

public sealed partial class SqliteMetadataStore
{
    /// <summary>
    /// Writes a consistent copy of the whole database to <paramref name="path"/> with <c>VACUUM INTO</c>: one read
    /// transaction on a reader connection, so that writers carry on meanwhile and the copy holds exactly the commits made
    /// before it began. The file is complete (no write-ahead log) but not yet flushed; the caller flushes it.
    /// </summary>
    internal ValueTask<bool> SnapshotToAsync(string path, CancellationToken cancellationToken) =>
        ReadAsync(
            path,
            static (session, target) =>
            {
                using var command = session.Connection.CreateCommand();
                command.CommandText = "VACUUM INTO $path;";
                command.Parameters.AddWithValue("$path", target);
                command.ExecuteNonQuery();
                return true;
            },
            snapshot: false,
            cancellationToken);
}
