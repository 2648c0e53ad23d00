using System.Runtime.CompilerServices;
using System.Text;
using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The <c>properties</c> column of the blobs table: every listed property of a row but tags and
/// metadata, in one value SQLite computes and stores itself (a STORED generated column), so it can
/// never disagree with the columns it is made of. A listing or a download reads two columns a row
/// (the name and this one) instead of thirteen: each column read is a call into SQLite, and
/// reading the columns one by one cost more than walking the rows.
/// </summary>
/// <remarks>
/// The value is the columns' text joined by U+001F (unit separator), integers in decimal, a null last
/// access as an empty field. The content type goes last: it is the one field a caller writes, and the
/// only one that may hold spaces or punctuation (never a control character); every field before it is
/// made by the store.
/// </remarks>
internal static class PropertiesColumn
{
    /// <summary>The column's definition, for the table that holds it.</summary>
    public const string Definition =
        "properties TEXT GENERATED ALWAYS AS (printf('%s\u001f%d\u001f%s\u001f%s\u001f%d\u001f%d\u001f%d\u001f%d\u001f%s\u001f%d\u001f%s', " +
        "version_id, size, etag, content_hash, storage_class, created, modified, access_count, COALESCE(last_accessed, ''), part_count, content_type)) STORED";

    private const byte Separator = 0x1F;

    /// <summary>Reads the properties of blob <paramref name="name"/> from its <c>properties</c> value.</summary>
    /// <exception cref="DataCorruptionException">The value is not one this column holds.</exception>
    /// <remarks>Optimized at first call, not tiered, with the fields' readers: a listing runs it for every row (see SqliteMetadataStore.List).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static BlobProperties Read(
        ReadOnlySpan<byte> value,
        string container,
        string name,
        IReadOnlyDictionary<string, string> tags,
        IReadOnlyDictionary<string, string> metadata)
    {
        var fields = new Fields(value);
        var versionId = fields.NextString();
        var size = fields.NextInt64();
        var etag = fields.NextString();
        var contentHash = fields.NextString();
        var storageClass = fields.NextInt64();
        var created = fields.NextInt64();
        var modified = fields.NextInt64();
        var accessCount = fields.NextInt64();
        var lastAccessed = fields.NextOptionalInt64();
        var partCount = fields.NextInt64();
        var contentType = fields.Rest();
        // Fields are unsigned decimal: a value read is never negative.
        if (!fields.Valid || storageClass > StorageClassColumn.MaxValue || partCount > int.MaxValue)
        {
            throw new DataCorruptionException($"The metadata row of blob '{name}' in container '{container}' is damaged: its properties cannot be read.");
        }

        return new BlobProperties
        {
            Container = container,
            Name = name,
            VersionId = versionId,
            Size = size,
            ContentType = contentType,
            ETag = etag,
            ContentHash = contentHash,
            StorageClass = StorageClassColumn.ClassOf(storageClass),
            RehydratingTo = StorageClassColumn.RehydratingToOf(storageClass),
            CreatedOn = SqliteMetadataStore.Time(created),
            LastModified = SqliteMetadataStore.Time(modified),
            AccessCount = accessCount,
            LastAccessedOn = lastAccessed is { } at ? SqliteMetadataStore.Time(at) : null,
            PartCount = (int)partCount,
            Tags = tags,
            Metadata = metadata,
        };
    }

    /// <summary>The fields of a value, taken in order; a field that is missing or malformed clears <see cref="Valid"/>.</summary>
    private ref struct Fields(ReadOnlySpan<byte> value)
    {
        private ReadOnlySpan<byte> _rest = value;

        public bool Valid { get; private set; } = true;

        public string NextString() => Decode(Next());

        /// <summary>
        /// A field of decimal digits: the store writes no sign, and 19 digits fit a ulong. Read in one pass up to the
        /// separator that must end it, without looking for the separator first: seven of a row's eleven fields are
        /// numbers, and a listing reads them for every row.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long NextInt64()
        {
            var rest = _rest;
            ulong number = 0;
            var length = 0;
            while (length < rest.Length)
            {
                var value = (uint)(rest[length] - '0');
                if (value > 9) break;
                number = (number * 10) + value;
                length++;
            }

            if (length is 0 or > 19 || number > long.MaxValue || length == rest.Length || rest[length] != Separator) return Invalid();
            _rest = rest[(length + 1)..];
            return (long)number;
        }

        public long? NextOptionalInt64()
        {
            if (_rest.Length > 0 && _rest[0] == Separator)
            {
                _rest = _rest[1..];
                return null;
            }

            return NextInt64();
        }

        /// <summary>The last field: everything after the last separator taken.</summary>
        public string Rest() =>
            _rest.SequenceEqual("application/octet-stream"u8) ? "application/octet-stream" : Decode(_rest);

        /// <summary>UTF-8 to a string; the fields are ASCII in practice, widened without UTF-8's validation.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static string Decode(ReadOnlySpan<byte> field) =>
            Ascii.IsValid(field)
                ? string.Create(field.Length, field, static (chars, bytes) => Ascii.ToUtf16(bytes, chars, out _))
                : Encoding.UTF8.GetString(field);

        private long Invalid()
        {
            Valid = false;
            return 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private ReadOnlySpan<byte> Next()
        {
            var end = _rest.IndexOf(Separator);
            if (end < 0)
            {
                Valid = false;
                return default;
            }

            var field = _rest[..end];
            _rest = _rest[(end + 1)..];
            return field;
        }
    }
}
