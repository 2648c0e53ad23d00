using Npgsql;
using NpgsqlTypes;

namespace BlobStorage.PostgreSql.Internal;

/// <summary>A connection and, when the work runs in one, its transaction: makes commands with the store's schema in their text.</summary>
internal readonly struct PgTx(NpgsqlConnection connection, NpgsqlTransaction? transaction, PostgreSqlMetadataStore store)
{
    public NpgsqlConnection Connection => connection;

    public PostgreSqlMetadataStore Store => store;

    /// <summary>A command for <paramref name="sql"/>, in which <c>{S}.</c> stands for the store's schema.</summary>
    public NpgsqlCommand Command(string sql) => new(store.Sql(sql), connection, transaction);
}

/// <summary>Typed parameters, so that a null still has a type PostgreSQL can resolve.</summary>
internal static class PgParameters
{
    public static NpgsqlCommand Text(this NpgsqlCommand command, string name, string? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value });
        return command;
    }

    public static NpgsqlCommand Long(this NpgsqlCommand command, string name, long? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Bigint) { Value = value is { } v ? v : DBNull.Value });
        return command;
    }

    public static NpgsqlCommand Int(this NpgsqlCommand command, string name, int? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Integer) { Value = value is { } v ? v : DBNull.Value });
        return command;
    }

    public static NpgsqlCommand Bytes(this NpgsqlCommand command, string name, byte[]? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Bytea) { Value = (object?)value ?? DBNull.Value });
        return command;
    }

    /// <summary>A bytea parameter over <paramref name="value"/>, sent from the caller's memory without a copy into an array.</summary>
    public static NpgsqlCommand Bytes(this NpgsqlCommand command, string name, ReadOnlyMemory<byte> value)
    {
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>(name, NpgsqlDbType.Bytea) { TypedValue = value });
        return command;
    }

    public static NpgsqlCommand BytesArray(this NpgsqlCommand command, string name, byte[][] value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = value });
        return command;
    }

    public static NpgsqlCommand LongArray(this NpgsqlCommand command, string name, long[] value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = value });
        return command;
    }

    public static NpgsqlCommand IntArray(this NpgsqlCommand command, string name, int[] value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = value });
        return command;
    }

    public static NpgsqlCommand TextArray(this NpgsqlCommand command, string name, string[] value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = value });
        return command;
    }

    public static string? NullableString(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? NullableInt64(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static int? NullableInt32(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);

    public static byte[] Bytes(this NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);
}
