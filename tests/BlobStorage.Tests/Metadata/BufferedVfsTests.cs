using System.Buffers.Binary;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Tests.Metadata;

/// <summary>
/// The VFS the SQLite metadata store opens its database through: it reads a value's pages from the write-ahead log
/// and the database in one call, and never hands back bytes a later write has replaced; it writes a transaction's
/// log frames in one call, before the commit can be read.
/// </summary>
public sealed class BufferedVfsTests
{
    private const string Container = "buffered";

    // Below TestStore's inline threshold (64 KiB - 1): kept in the database, fifteen pages of 4 KiB.
    private const int ValueSize = 60_000;

    [SetUp]
    public void RequireTheVfs()
    {
        if (OperatingSystem.IsWindows()) Assert.Ignore("The read-ahead VFS wraps unix-excl; Windows opens the database through its own VFS.");
    }

    [Test]
    public void Registers_itself_where_unix_excl_exists()
    {
        BufferedVfs.Name.Should().Be(BufferedVfs.VfsName);
        SqliteMetadataStore.OpenTarget("/data/metadata.db").Should().EndWith("?vfs=" + BufferedVfs.VfsName);
    }

    [Test]
    public async Task First_reads_of_values_just_written_copy_most_pages_from_a_read_ahead()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync(Container);
        var contents = Enumerable.Range(0, 20).Select(i => Streams.Bytes(ValueSize, seed: i + 1)).ToArray();
        for (var i = 0; i < contents.Length; i++) await test.Store.UploadBytesAsync(Container, $"b{i}", contents[i]);

        var buffered = BufferedVfs.BufferedReads;
        for (var i = 0; i < contents.Length; i++) (await test.Store.DownloadBytesAsync(Container, $"b{i}")).Should().Equal(contents[i]);

        // Each value's overflow pages lie one after the other in the log: all but the first are copied from the
        // read-ahead (other tests running meanwhile can only add to the count).
        (BufferedVfs.BufferedReads - buffered).Should().BeGreaterThanOrEqualTo(contents.Length * 10);
    }

    [Test]
    public void A_read_ahead_past_the_end_of_the_log_never_serves_frames_written_after_it()
    {
        using var folder = new TempFolder("buffered");
        var target = SqliteMetadataStore.OpenTarget(Path.Combine(folder.Path, "t.db"));
        var connectionString = new SqliteConnectionStringBuilder { DataSource = target, Pooling = false }.ToString();
        using var writer = new SqliteConnection(connectionString);
        using var reader = new SqliteConnection(connectionString);
        writer.Open();
        Execute(writer, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);");
        reader.Open();
        Execute(reader, "PRAGMA mmap_size = 0;");

        // A long log, moved into the database: the next write starts the log again from its first frame, and the
        // file keeps the old frames after the new ones. The first value is eight pages, the second fits in its row,
        // the others are fifteen pages; a value overwritten by one of its own size is written in place, so each
        // write below puts only the pages of that value and of its row in the log.
        for (var id = 1; id <= 40; id++) Write(writer, $"INSERT INTO t (id, v) VALUES ({id}, $v);", Streams.Bytes(Size(id), seed: id));
        Execute(writer, "PRAGMA wal_checkpoint(PASSIVE);");

        // The reader reads the one value in the new log and reads ahead into old frames past its end.
        var first = Streams.Bytes(Size(1), seed: 100);
        Write(writer, "UPDATE t SET v = $v WHERE id = 1;", first);
        var buffered = BufferedVfs.BufferedReads;
        Read(reader, 1).Should().Equal(first);
        (BufferedVfs.BufferedReads - buffered).Should().BeGreaterThanOrEqualTo(2, "the reader's pages of the log were read ahead");

        // The next write's one frame lands where the reader's buffer holds an old frame.
        var second = Streams.Bytes(Size(2), seed: 200);
        Write(writer, "UPDATE t SET v = $v WHERE id = 2;", second);
        Read(reader, 2).Should().Equal(second);
        Read(reader, 1).Should().Equal(first);

        static int Size(int id) => id switch { 1 => 30_000, 2 => 100, _ => ValueSize };
    }

    [Test]
    public void A_transactions_log_frames_reach_the_file_in_one_write()
    {
        using var folder = new TempFolder("buffered");
        using var writer = OpenConnection(folder, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);");
        Write(writer, "INSERT INTO t (id, v) VALUES (1, $v);", Streams.Bytes(100));

        // Seventeen frames (a row's page, fifteen pages of overflow, the table's root), each a header and a page.
        var writes = BufferedVfs.FileWritesOnThisThread;
        Write(writer, "INSERT INTO t (id, v) VALUES (2, $v);", Streams.Bytes(ValueSize, seed: 2));
        (BufferedVfs.FileWritesOnThisThread - writes).Should().Be(1);

        writes = BufferedVfs.FileWritesOnThisThread;
        Write(writer, "UPDATE t SET v = $v WHERE id = 1;", Streams.Bytes(100, seed: 3));
        (BufferedVfs.FileWritesOnThisThread - writes).Should().Be(1);
    }

    [Test]
    public void Every_commit_is_in_the_log_before_another_connection_reads_it()
    {
        // No flush at commit (synchronous NORMAL), and a writer cache of a few pages, so large transactions spill
        // frames to the log before their commit and write some of them again in place.
        using var folder = new TempFolder("buffered");
        using var writer = OpenConnection(folder, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 8; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);");
        using var reader = OpenConnection(folder, "PRAGMA mmap_size = 0;");
        var expected = new Dictionary<int, byte[]>();

        void Commit(params (int Id, int Size)[] rows)
        {
            using var transaction = writer.BeginTransaction();
            foreach (var (id, size) in rows)
            {
                var value = Streams.Bytes(size, seed: (id * 7919) + size);
                using var command = writer.CreateCommand();
                command.CommandText = "INSERT OR REPLACE INTO t (id, v) VALUES ($id, $v);";
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$v", value);
                command.ExecuteNonQuery();
                expected[id] = value;
            }

            transaction.Commit();
            foreach (var (id, _) in rows) Read(reader, id).Should().Equal(expected[id], $"row {id} was committed");
        }

        Commit((1, 10));
        Commit((2, ValueSize));
        Commit((3, 600_000)); // 150 frames: more than are kept back at once (31)
        Commit([.. Enumerable.Range(10, 200).Select(id => (id, 3_000))]);
        Commit([.. Enumerable.Range(10, 200).Select(id => (id, 2_000))]);

        // A transaction rolled back leaves frames past the log's end; the next commit writes over them.
        using (var transaction = writer.BeginTransaction())
        {
            Write(writer, "INSERT OR REPLACE INTO t (id, v) VALUES (2, $v);", Streams.Bytes(300_000, seed: 9));
            transaction.Rollback();
        }

        Commit((4, 5_000));
        foreach (var (id, value) in expected) Read(reader, id).Should().Equal(value);
    }

    [Test]
    public async Task Overwrites_racing_reads_across_checkpoints_only_ever_read_whole_values()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync(Container);
        const int Names = 16;
        const int Puts = 700; // about 10,000 pages of log: more than two automatic checkpoints (every 4,000 pages)
        for (var i = 0; i < Names; i++) await test.Store.UploadBytesAsync(Container, $"b{i}", Value(i + 1, ValueSize));

        var puts = 0;
        var reads = 0;
        var seed = Names;
        var writers = Task.WhenAll(Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (Interlocked.Increment(ref puts) <= Puts)
            {
                var value = Value(Interlocked.Increment(ref seed), random.Next(20_000, ValueSize + 1));
                await test.Store.UploadBytesAsync(Container, $"b{random.Next(Names)}", value);
            }
        })));
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var random = new Random(100 + r);
            while (!writers.IsCompleted)
            {
                var bytes = await test.Store.DownloadBytesAsync(Container, $"b{random.Next(Names)}");
                IsWhole(bytes).Should().BeTrue("a read returns one whole value that was written, never pages of two");
                Interlocked.Increment(ref reads);
            }
        }));
        await Task.WhenAll(readers.Append(writers));

        reads.Should().BePositive();
        for (var i = 0; i < Names; i++) IsWhole(await test.Store.DownloadBytesAsync(Container, $"b{i}")).Should().BeTrue();
    }

    [Test]
    public void A_checkpoints_pages_reach_the_database_in_runs()
    {
        using var folder = new TempFolder("buffered");
        using var writer = OpenConnection(folder, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);");
        var values = WriteTwentyValues(writer);

        // About 320 pages (fifteen of overflow and a row's share a value), nearly all one after the other: written
        // a page a call they were 320 writes; in runs of up to 124 KiB, ending on 64 KiB boundaries, a few dozen.
        var writes = BufferedVfs.FileWritesOnThisThread;
        Execute(writer, "PRAGMA wal_checkpoint(TRUNCATE);");
        (BufferedVfs.FileWritesOnThisThread - writes).Should().BeInRange(1, 40);

        // The log is empty now: every page is read from the database file.
        new FileInfo(Path.Combine(folder.Path, "t.db-wal")).Length.Should().Be(0);
        using var reader = OpenConnection(folder, "PRAGMA mmap_size = 0;");
        foreach (var (id, value) in values) Read(reader, id).Should().Equal(value);
    }

    [Test]
    public void A_checkpoint_that_cannot_reserve_the_databases_new_blocks_writes_its_pages_one_a_call()
    {
        using var folder = new TempFolder("buffered");
        using var writer = OpenConnection(folder, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);");
        var values = WriteTwentyValues(writer);

        // As on a full disk: a run kept back could then fail after SQLite counted its pages, so there are none, and
        // each page's write fails or succeeds in SQLite's own call.
        var writes = BufferedVfs.FileWritesOnThisThread;
        BufferedVfs.FailReservationsOnThisThread = 1;
        try
        {
            Execute(writer, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        finally
        {
            BufferedVfs.FailReservationsOnThisThread = 0;
        }

        (BufferedVfs.FileWritesOnThisThread - writes).Should().BeGreaterThan(300);
        using var reader = OpenConnection(folder, "PRAGMA mmap_size = 0;");
        foreach (var (id, value) in values) Read(reader, id).Should().Equal(value);
    }

    [Test]
    public void A_checkpoints_pages_that_fail_to_reach_the_database_are_never_read_from_it_stale()
    {
        using var folder = new TempFolder("buffered");
        using var writer = OpenConnection(folder, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);");
        for (var id = 1; id <= 4; id++) Write(writer, $"INSERT INTO t (id, v) VALUES ({id}, $v);", Streams.Bytes(ValueSize, seed: id));
        Execute(writer, "PRAGMA wal_checkpoint(TRUNCATE);");

        // New values of the same size, written in place: the database file holds the old ones, the log the new.
        var current = Enumerable.Range(1, 4).ToDictionary(id => id, id => Streams.Bytes(ValueSize, seed: 100 + id));
        foreach (var (id, value) in current) Write(writer, $"UPDATE t SET v = $v WHERE id = {id};", value);

        // A reader holding that state and a commit after it: the checkpoint copies only up to the reader's state,
        // so it neither syncs nor truncates the database, and SQLite counts the copied pages on the strength of
        // CKPT_DONE alone, the file control whose run of pages is made to fail here.
        using var reader = OpenConnection(folder, "PRAGMA mmap_size = 0;");
        using var holder = OpenConnection(folder, "PRAGMA mmap_size = 0;");
        using var held = holder.BeginTransaction(deferred: true);
        Read(holder, 1).Should().Equal(current[1]);
        Write(writer, "INSERT INTO t (id, v) VALUES (5, $v);", Streams.Bytes(100, seed: 5));
        BufferedVfs.FailCheckpointEndsOnThisThread = 1;
        try
        {
            Execute(writer, "PRAGMA wal_checkpoint(PASSIVE);");
        }
        finally
        {
            BufferedVfs.FailCheckpointEndsOnThisThread = 0;
        }

        // A new read takes those pages from the database file: an error, never the old value; a connection opened
        // now cannot read the database's first page either.
        reader.Invoking(r => Read(r, 2)).Should().Throw<SqliteException>().Which.SqliteErrorCode.Should().Be(10, "SQLITE_IOERR");
        folder.Invoking(f => OpenConnection(f, "PRAGMA mmap_size = 0;").Dispose()).Should().Throw<SqliteException>().Which.SqliteErrorCode.Should().Be(10);

        // The writer's next call on the database writes the run it kept; then every read finds the new values.
        Execute(writer, "PRAGMA wal_checkpoint(PASSIVE);");
        foreach (var (id, value) in current) Read(reader, id).Should().Equal(value);
        held.Commit();
    }

    // Twenty values of fifteen pages each, in the log of a database that does not checkpoint on its own.
    private static Dictionary<int, byte[]> WriteTwentyValues(SqliteConnection writer)
    {
        var values = Enumerable.Range(1, 20).ToDictionary(id => id, id => Streams.Bytes(ValueSize, seed: id));
        foreach (var (id, value) in values) Write(writer, $"INSERT INTO t (id, v) VALUES ({id}, $v);", value);
        return values;
    }

    // A value that says what it is: its seed and length, then bytes made from the seed.
    private static byte[] Value(int seed, int length)
    {
        var bytes = Streams.Bytes(length, seed);
        BinaryPrimitives.WriteInt32LittleEndian(bytes, seed);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), length);
        return bytes;
    }

    private static bool IsWhole(byte[] bytes) =>
        bytes.Length >= 8 && Value(BinaryPrimitives.ReadInt32LittleEndian(bytes), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4))).AsSpan().SequenceEqual(bytes);

    private static SqliteConnection OpenConnection(TempFolder folder, string pragmas)
    {
        var target = SqliteMetadataStore.OpenTarget(Path.Combine(folder.Path, "t.db"));
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, pragmas);
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void Write(SqliteConnection connection, string sql, byte[] value)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$v", value);
        command.ExecuteNonQuery();
    }

    private static byte[] Read(SqliteConnection connection, int id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT v FROM t WHERE id = {id};";
        return (byte[])command.ExecuteScalar()!;
    }
}
