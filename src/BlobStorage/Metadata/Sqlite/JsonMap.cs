using System.Buffers;
using System.Text;
using System.Text.Json;
using BlobStorage.Internal;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// Tags and custom metadata as a JSON object in a TEXT column, NULL when empty. Keys are written in
/// the dictionary's order and read back in the same order into an ordinal dictionary.
/// </summary>
internal static class JsonMap
{
    public static string? Write(IReadOnlyDictionary<string, string> values)
    {
        if (values.Count == 0) return null;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in values) writer.WriteString(key, value);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyDictionary<string, string> Read(SqliteDataReader reader, int ordinal) => Read(new ReaderRow(reader), ordinal);

    /// <summary>The map in a row's column, parsed from the column's UTF-8 bytes with no string in between.</summary>
    public static IReadOnlyDictionary<string, string> Read<TRow>(TRow row, int ordinal)
        where TRow : struct, ISqliteRow =>
        row.IsNull(ordinal) ? MetadataRules.Empty : Parse(row.GetBlob(ordinal));

    private static Dictionary<string, string> Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            Expect(ref reader, JsonTokenType.StartObject);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                Expect(ref reader, JsonTokenType.String);
                values[key] = reader.GetString()!;
            }

            if (reader.TokenType != JsonTokenType.EndObject) throw Malformed();
            return values;
        }
        catch (JsonException ex)
        {
            throw Malformed(ex);
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token)
    {
        if (!reader.Read() || reader.TokenType != token) throw Malformed();
    }

    private static Abstractions.DataCorruptionException Malformed(Exception? inner = null) =>
        new("A stored tag or metadata column is not a JSON object of strings.", inner);
}
