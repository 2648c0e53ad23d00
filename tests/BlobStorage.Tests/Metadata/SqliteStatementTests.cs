using BlobStorage.Metadata.Sqlite;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Tests.Metadata;

/// <summary>Binding and running statements through SQLite's own API, as the write path does.</summary>
public sealed class SqliteStatementTests
{
    private SqliteConnection _connection = null!;

    [SetUp]
    public void Open()
    {
        _connection = new SqliteConnection("Data Source=:memory:");
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB, s TEXT, n INTEGER);";
        command.ExecuteNonQuery();
    }

    [TearDown]
    public void Close() => _connection.Dispose();

    [Test]
    public void Empty_blobs_and_texts_are_bound_as_empty_values_not_as_NULL()
    {
        using (var insert = SqliteStatement.Prepare(_connection, "INSERT INTO t (b, s, n) VALUES (@b, @s, @n);"))
        {
            insert.Set("@b", Array.Empty<byte>()).Set("@s", string.Empty).Set("@n", 0L).Execute();
        }

        Row().Should().Be("blob:0|text:0|integer:0");
    }

    [Test]
    public void Null_values_are_bound_as_NULL_and_others_keep_their_type_and_bytes()
    {
        using (var insert = SqliteStatement.Prepare(_connection, "INSERT INTO t (b, s, n) VALUES (@b, @s, @n);"))
        {
            insert.Set("@b", (byte[]?)null).Set("@s", (string?)null).Set("@n", (long?)null).Execute();
            insert.Set("@b", new byte[] { 0, 1, 2 }).Set("@s", "é/x").Set("@n", (long?)long.MinValue).Execute();
        }

        Row(1).Should().Be("null:|null:|null:");
        Row(2).Should().Be($"blob:3|text:4|integer:{long.MinValue}");
        Scalar("SELECT hex(b) || s FROM t WHERE id = 2;").Should().Be("000102é/x");
    }

    [Test]
    public void ExecuteInt64_returns_the_first_column_of_a_RETURNING_row_and_leaves_the_statement_reusable()
    {
        using var insert = SqliteStatement.Prepare(_connection, "INSERT INTO t (n) VALUES (@n) RETURNING id;");
        insert.Set("@n", 5L).ExecuteInt64().Should().Be(1);
        insert.Set("@n", 6L).ExecuteInt64().Should().Be(2);
        Scalar("SELECT group_concat(n) FROM t;").Should().Be("5,6");
    }

    [Test]
    public void ExecuteInt64_of_a_statement_without_rows_is_refused_and_the_statement_is_reset()
    {
        using var select = SqliteStatement.Prepare(_connection, "SELECT n FROM t WHERE id = @id;");
        var act = () => select.Set("@id", 1L).ExecuteInt64();
        act.Should().Throw<InvalidOperationException>().WithMessage("*no row*");
        using (var insert = SqliteStatement.Prepare(_connection, "INSERT INTO t (n) VALUES (@n);"))
        {
            insert.Set("@n", 9L).Execute();
        }

        select.Set("@id", 1L).ExecuteInt64().Should().Be(9);
    }

    [Test]
    public void A_parameter_the_statement_does_not_have_is_named_in_the_error()
    {
        using var insert = SqliteStatement.Prepare(_connection, "INSERT INTO t (n) VALUES (@n);");
        var act = () => insert.Set("@missing", 1L);
        act.Should().Throw<ArgumentException>().WithMessage("*'@missing'*");
    }

    private string Row(long id = 1) =>
        (string)Scalar($"SELECT typeof(b) || ':' || coalesce(length(b), '') || '|' || typeof(s) || ':' || coalesce(length(CAST(s AS BLOB)), '') || '|' || typeof(n) || ':' || coalesce(n, '') FROM t WHERE id = {id};")!;

    private object? Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
