using System.Buffers;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// Small blobs kept whole in the database. Their content lives in a table of its own, so that blob rows
/// stay small (updating access counts or listing never touches content); copies share a row through a
/// reference count; every read checks an XxHash3 checksum, as a chunk read does.
/// </summary>
public sealed partial class SqliteMetadataStore
{
    private const string InsertInlineSql = "INSERT INTO inline_content (refcount, checksum, data) VALUES (1, @checksum, @data) RETURNING id;";
    private const string ReferenceInlineSql = "UPDATE inline_content SET refcount = refcount + 1 WHERE id = @id;";
    private const string ReleaseInlineSql = "UPDATE inline_content SET refcount = refcount - 1 WHERE id = @id RETURNING refcount, length(data);";
    private const string DeleteInlineSql = "DELETE FROM inline_content WHERE id = @id;";

    /// <summary>Stores the content of a small blob and returns its row; its bytes count as stored.</summary>
    private static long AddInline(SqliteSession session, ReadOnlySpan<byte> content, ref StatsDelta delta)
    {
        var statement = session.Statement(InsertInlineSql).Set("@checksum", unchecked((long)BlockChecksum.Compute(content)));
        statement.BindBlob("@data", content);
        var id = statement.ExecuteInt64();
        delta.StoredBytes += content.Length;
        return id;
    }

    /// <summary>Counts one more blob sharing the content (a copy).</summary>
    private static void ReferenceInline(SqliteSession session, long inlineId) =>
        session.Statement(ReferenceInlineSql).Set("@id", inlineId).Execute();

    /// <summary>
    /// Drops one blob's share of the content; the last share deletes it at once. Unlike a chunk it needs no
    /// grace period: a reader holds the bytes it read, not the row.
    /// </summary>
    /// <remarks>A missing row is skipped, so a blob that lost its content can still be deleted.</remarks>
    /// <exception cref="DataCorruptionException">The row has fewer references than are released.</exception>
    private static void ReleaseInline(SqliteSession session, long inlineId, ref StatsDelta delta)
    {
        if (!session.Statement(ReleaseInlineSql).Set("@id", inlineId).TryExecute(out var remaining, out var length)) return;
        if (remaining < 0)
        {
            throw new DataCorruptionException($"Inline content {inlineId} would have {remaining} references; its count is wrong. Run a verification.");
        }

        if (remaining > 0) return;
        session.Statement(DeleteInlineSql).Set("@id", inlineId).Execute();
        delta.StoredBytes -= length;
    }

    /// <summary>Releases everything a blob version holds: its chunks and its share of inline content.</summary>
    private static void ReleaseVersion(SqliteSession session, StoredBlob current, DateTimeOffset now, ref StatsDelta delta)
    {
        Release(session, current.Record.Chunks, now, ref delta);
        if (current.InlineId is { } inlineId) ReleaseInline(session, inlineId, ref delta);
    }

    /// <summary>
    /// The inline content of the row being read (its id, checksum and data at <paramref name="first"/>),
    /// verified against its checksum, in a new array or, when <paramref name="rent"/>, in the first
    /// <paramref name="length"/> bytes of one rented from the shared pool; null for a blob kept in chunks.
    /// </summary>
    /// <exception cref="DataCorruptionException">The content is missing or fails its checksum.</exception>
    private static byte[]? ReadInline<TRow>(TRow row, int first, string container, string name, bool rent, out int length)
        where TRow : struct, ISqliteRow
    {
        length = 0;
        if (row.IsNull(first)) return null;
        if (row.IsNull(first + 2))
        {
            throw new DataCorruptionException($"The content of blob '{name}' in container '{container}', kept in the metadata database, is missing.");
        }

        // Copied once out of SQLite's memory, into an array that every byte is then written over, and checked in the
        // same pass: each stripe is hashed from the register it is stored from, so the bytes verified are the bytes served.
        var stored = row.GetBlob(first + 2);
        var content = rent ? ArrayPool<byte>.Shared.Rent(stored.Length) : GC.AllocateUninitializedArray<byte>(stored.Length);
        if (unchecked((ulong)row.GetInt64(first + 1)) != BlockChecksum.CopyAndCompute(stored, content))
        {
            if (rent) ArrayPool<byte>.Shared.Return(content);
            throw new DataCorruptionException($"The content of blob '{name}' in container '{container}', kept in the metadata database, fails its checksum.");
        }

        length = stored.Length;
        return content;
    }

    /// <summary>A blob row read inside a write transaction: its record (chunks, no inline bytes) and its inline content row, if any.</summary>
    private readonly record struct StoredBlob(BlobRecord Record, long? InlineId)
    {
        public BlobProperties Properties => Record.Properties;

        public IReadOnlyList<ChunkReference> Chunks => Record.Chunks;
    }
}
