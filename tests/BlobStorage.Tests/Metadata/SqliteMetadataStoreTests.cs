using System.Diagnostics;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Tests.Contracts;
using BlobStorage.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Tests.Metadata;

/// <summary>The metadata store contract on <see cref="SqliteMetadataStore"/>, and what is particular to SQLite.</summary>
public sealed class SqliteMetadataStoreTests : MetadataStoreContractTests
{
    private TempFolder? _folder;

    private string DatabasePath => Path.Combine(_folder!.Path, "metadata.db");

    private SqliteMetadataStore Sqlite => (SqliteMetadataStore)Store;

    // Pages of 7 rows: every enumeration in the contract tests crosses page boundaries.
    private const int EnumerationPageSize = 7;

    protected override int EnumerationBlobCount => 40;

    protected override async ValueTask<IMetadataStore> CreateStoreAsync()
    {
        _folder = new TempFolder("sqlite");
        return await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = DatabasePath });
    }

    protected override async ValueTask<IMetadataStore> ReopenAsync()
    {
        await Store.DisposeAsync();
        return await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = DatabasePath });
    }

    [TearDown]
    public async Task DeleteFolderAsync()
    {
        // Derived tear-downs run before the base's: the file must be closed before its folder goes.
        await Store.DisposeAsync();
        _folder?.Dispose();
    }

    private static async Task<SqliteMetadataStore> OpenAsync(SqliteMetadataStoreOptions options)
    {
        var store = new SqliteMetadataStore(options) { EnumerationPageSize = EnumerationPageSize };
        try
        {
            await store.InitializeAsync();
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection of the test's own on the same file, as another process would hold one.</summary>
    private SqliteConnection OpenForeignConnection()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false, DefaultTimeout = 1 }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    [Test]
    public async Task Connections_use_WAL_and_synchronous_FULL_by_default()
    {
        foreach (var onWriter in new[] { true, false })
        {
            (await Sqlite.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.JournalMode, onWriter)).Should().Be("wal");
            (await Sqlite.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.Synchronous, onWriter)).Should().Be(2L, "2 is FULL");
        }

        using var foreign = OpenForeignConnection();
        Scalar(foreign, "PRAGMA journal_mode;").Should().Be("wal", "WAL mode is recorded in the file");
    }

    [Test]
    public async Task Readers_read_without_a_memory_map_and_the_writer_with_one()
    {
        // Mapped pages count in the working set once per connection and cost a page fault on first touch
        // (see SqliteSession.ReaderPragmas): readers copy pages with system calls instead.
        (await Sqlite.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.MmapSize, onWriter: false)).Should().Be(0L);
        (await Sqlite.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.MmapSize, onWriter: true)).Should().Be(268435456L);
    }

    [Test]
    public async Task Synchronous_NORMAL_is_used_when_asked_for()
    {
        await using var store = await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = Path.Combine(_folder!.Path, "normal.db"), SynchronousMode = SynchronousMode.Normal });
        foreach (var onWriter in new[] { true, false })
        {
            (await store.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.Synchronous, onWriter)).Should().Be(1L, "1 is NORMAL");
            (await store.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.JournalMode, onWriter)).Should().Be("wal");
        }
    }

    [Test]
    public async Task The_schema_version_is_recorded_in_user_version()
    {
        (await Sqlite.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.UserVersion, onWriter: true)).Should().Be((long)Migrations.Latest);
        await Store.DisposeAsync();
        using var foreign = OpenForeignConnection();
        Scalar(foreign, "PRAGMA user_version;").Should().Be((long)Migrations.Latest);
        Scalar(foreign, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('containers', 'blobs', 'chunks', 'stats', 'uploads', 'parts');").Should().Be(6L);
        Scalar(foreign, "SELECT COUNT(*) FROM stats;").Should().Be(1L);
    }

    [Test]
    public async Task Rows_are_read_straight_from_the_library_SQLitePCLRaw_loaded()
    {
        await CreateContainerAsync();
        await CommitAsync(BlobWith(Box, "a", T0, [Chunk(1)], tags: new Dictionary<string, string> { ["t"] = "1" }));

        // The bundled e_sqlite3 is found by name on the platforms the tests run on; a silent fallback would hide a slower path.
        SqliteNative.Available.Should().BeTrue();
        (await Store.ListBlobsAsync(Box, new BlobListQuery { Include = BlobListTraits.Tags })).Blobs.Single().Tags.Should().Equal(new Dictionary<string, string> { ["t"] = "1" });
        (await Store.GetBlobAsync(Box, "a"))!.Chunks.Should().Equal(Chunk(1));
    }

    [Test]
    public async Task A_version_3_database_is_brought_up_to_date_with_its_blobs_intact()
    {
        await Store.DisposeAsync();
        var path = Path.Combine(_folder!.Path, "v3.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            foreach (var step in Migrations.Steps.Take(3)) Scalar(connection, step);
            Scalar(connection, "PRAGMA user_version = 3;");
            Scalar(connection, $"INSERT INTO containers VALUES (1, 'box', 0, 0, 0, {T0.UtcTicks}, 2, 0);");
            Scalar(
                connection,
                $$"""
                INSERT INTO blobs (container_id, name, version_id, size, content_type, etag, content_hash, storage_class, created,
                    modified, access_count, last_accessed, tags, metadata, chunks, part_count, inline_id)
                VALUES
                    (1, CAST('a' AS BLOB), 'v1', 0, 'text/plain; charset=utf-8', '"e1"', 'h1', 1, {{T0.UtcTicks}}, {{T(1).UtcTicks}}, 5, {{T(2).UtcTicks}}, '{"k":"v"}', NULL, x'', 0, NULL),
                    (1, CAST('b' AS BLOB), 'v2', 0, 'application/octet-stream', '"e2"', 'h2', 0, {{T0.UtcTicks}}, {{T0.UtcTicks}}, 0, NULL, NULL, '{"m":"n"}', x'', 3, NULL);
                """);
        }

        await using var store = await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = path });
        (await store.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.UserVersion, onWriter: true)).Should().Be((long)Migrations.Latest);
        var a = new BlobProperties
        {
            Container = Box,
            Name = "a",
            VersionId = "v1",
            ContentType = "text/plain; charset=utf-8",
            ETag = "\"e1\"",
            ContentHash = "h1",
            StorageClass = StorageClass.InfrequentAccess,
            CreatedOn = T0,
            LastModified = T(1),
            AccessCount = 5,
            LastAccessedOn = T(2),
            Tags = new Dictionary<string, string> { ["k"] = "v" },
        };
        var b = new BlobProperties
        {
            Container = Box,
            Name = "b",
            VersionId = "v2",
            ETag = "\"e2\"",
            ContentHash = "h2",
            CreatedOn = T0,
            LastModified = T0,
            PartCount = 3,
            Metadata = new Dictionary<string, string> { ["m"] = "n" },
        };
        (await store.GetBlobAsync(Box, "a"))!.Properties.Should().BeEquivalentTo(a);
        (await store.GetBlobAsync(Box, "b"))!.Properties.Should().BeEquivalentTo(b);
        (await store.ListBlobsAsync(Box, new BlobListQuery { Include = BlobListTraits.All })).Blobs.Should().BeEquivalentTo([a, b], o => o.WithStrictOrdering());
    }

    [Test]
    public async Task Listed_and_read_properties_agree_after_every_kind_of_change()
    {
        await CreateContainerAsync();
        await CommitAsync(BlobWith(Box, "a", T0, [Chunk(1)], contentType: "text/plain; charset=utf-8; q=\"x y\"", storageClass: StorageClass.InfrequentAccess, tags: new Dictionary<string, string> { ["t"] = "1" }));
        await CommitAsync(BlobWith(Box, "b", T0, [Chunk(2)], inline: [1, 2, 3]));
        await Store.UpdateBlobMetadataAsync(Box, "a", new BlobMetadataUpdate { Metadata = new Dictionary<string, string?> { ["m"] = "2" } }, "\"0xNEW\"", T(3));
        var b = (await Store.GetBlobAsync(Box, "b"))!.Properties;
        await Store.RecordAccessAsync([new BlobAccess(Box, "b", b.VersionId, 4, 12, T(5))]);

        var listed = (await Store.ListBlobsAsync(Box, new BlobListQuery { Include = BlobListTraits.All })).Blobs;
        listed.Should().HaveCount(2);
        foreach (var blob in listed)
        {
            blob.Should().BeEquivalentTo((await Store.GetBlobAsync(Box, blob.Name))!.Properties);
        }

        listed[0].ContentType.Should().Be("text/plain; charset=utf-8; q=\"x y\"");
        listed[0].ETag.Should().Be("\"0xNEW\"");
        listed[0].LastModified.Should().Be(T(3));
        listed[0].StorageClass.Should().Be(StorageClass.InfrequentAccess);
        listed[1].AccessCount.Should().Be(4);
        listed[1].LastAccessedOn.Should().Be(T(5));
    }

    [Test]
    public void A_properties_value_is_read_field_by_field()
    {
        var max = DateTimeOffset.MaxValue.UtcTicks;
        var value = $"v\u001f{long.MaxValue}\u001f\"0x1\"\u001fh\u001f2\u001f0\u001f{max}\u001f7\u001f\u001f3\u001ftext/plain; charset=utf-8";
        var properties = PropertiesColumn.Read(System.Text.Encoding.UTF8.GetBytes(value), Box, "a", MetadataRules.Empty, MetadataRules.Empty);
        properties.Should().BeEquivalentTo(new BlobProperties
        {
            Container = Box,
            Name = "a",
            VersionId = "v",
            Size = long.MaxValue,
            ETag = "\"0x1\"",
            ContentHash = "h",
            StorageClass = StorageClass.Archive,
            CreatedOn = DateTimeOffset.MinValue,
            LastModified = DateTimeOffset.MaxValue,
            AccessCount = 7,
            LastAccessedOn = null,
            PartCount = 3,
            ContentType = "text/plain; charset=utf-8",
        });
    }

    [TestCase("")]
    [TestCase("v\u001f1")]
    [TestCase("v\u001f1\u001f\u001f\u001f\u001f\u001f\u001f\u001f\u001f\u001f\u001ftext/plain")]
    [TestCase("v\u001fx\u001fe\u001fh\u001f0\u001f1\u001f2\u001f0\u001f\u001f0\u001ftext/plain")]
    [TestCase("v\u001f99999999999999999999\u001fe\u001fh\u001f0\u001f1\u001f2\u001f0\u001f\u001f0\u001ftext/plain")]
    [TestCase("v\u001f9223372036854775808\u001fe\u001fh\u001f0\u001f1\u001f2\u001f0\u001f\u001f0\u001ftext/plain")]
    [TestCase("v\u001f1\u001fe\u001fh\u001f0\u001f-1\u001f2\u001f0\u001f\u001f0\u001ftext/plain")]
    public void A_properties_value_that_cannot_be_read_is_reported_as_corruption(string value)
    {
        var act = () => PropertiesColumn.Read(System.Text.Encoding.UTF8.GetBytes(value), Box, "a", MetadataRules.Empty, MetadataRules.Empty);
        act.Should().Throw<DataCorruptionException>().WithMessage("*'a'*'box'*");
    }

    [Test]
    public async Task A_database_from_a_newer_version_is_refused()
    {
        var path = Path.Combine(_folder!.Path, "newer.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Scalar(connection, "PRAGMA user_version = 99;");
        }

        var act = () => OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = path });
        var thrown = await act.Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        thrown.Which.Message.Should().Contain(path).And.Contain("99");
    }

    [Test]
    public async Task A_file_that_is_not_a_database_is_refused_naming_the_file()
    {
        var path = Path.Combine(_folder!.Path, "garbage.db");
        await File.WriteAllBytesAsync(path, Streams.Bytes(16 * 1024, seed: 3));
        var thrown = await FluentActions.Awaiting(() => OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = path })).Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        thrown.Which.Message.Should().Contain(path);
        thrown.Which.InnerException.Should().BeOfType<SqliteException>();
        (await File.ReadAllBytesAsync(path)).Should().Equal(Streams.Bytes(16 * 1024, seed: 3), "a file that is not ours is left as it was");
    }

    [Test]
    public async Task A_database_with_a_damaged_schema_is_refused_at_open()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        await Store.DisposeAsync();

        // Keep the 100-byte header (so it is still "a SQLite file") and scramble the schema page after it.
        await using (var file = new FileStream(DatabasePath, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 100;
            await file.WriteAsync(Streams.Bytes(3000, seed: 9));
        }

        var thrown = await FluentActions.Awaiting(() => OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = DatabasePath })).Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        thrown.Which.Message.Should().Contain(DatabasePath);
    }

    [Test]
    public void Options_are_checked_when_the_store_is_made()
    {
        FluentActions.Invoking(() => new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = " " })).Should().Throw<ArgumentException>().WithMessage("*DatabasePath*");
        FluentActions.Invoking(() => new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = "x.db", BusyTimeout = TimeSpan.Zero })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*BusyTimeout*");
        FluentActions.Invoking(() => new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = "x.db", SynchronousMode = (SynchronousMode)7 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*SynchronousMode*");
        new SqliteMetadataStoreOptions { DatabasePath = "x.db" }.BusyTimeout.Should().Be(TimeSpan.FromSeconds(30));
    }

    [Test]
    public async Task Concurrent_reads_share_two_reader_connections_per_core_at_most()
    {
        await CreateContainerAsync();
        for (var i = 0; i < 16; i++) await CommitAsync(Blob(Box, $"b{i}", T0, Chunk(i + 1)));

        // Many more reads at once than connections: the extra ones wait for a connection instead of opening one
        // (each connection caches its log pages on its own).
        var reads = Enumerable.Range(0, 64).Select(i => Task.Run(async () => await Store.GetBlobAsync(Box, $"b{i % 16}"))).ToArray();
        var records = await Task.WhenAll(reads);

        records.Should().AllSatisfy(r => r.Should().NotBeNull());
        records.Select(r => r!.Properties.Name).Distinct().Should().HaveCount(16);
        SqliteMetadataStore.ReaderCapacity.Should().Be(Math.Clamp(2 * Environment.ProcessorCount, 4, 16));
        Sqlite.OpenReaders.Should().BeInRange(1, SqliteMetadataStore.ReaderCapacity);
    }

    [Test]
    public async Task A_call_before_InitializeAsync_is_refused()
    {
        await using var store = new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = Path.Combine(_folder!.Path, "later.db") });
        await FluentActions.Awaiting(() => store.GetContainerAsync("box").AsTask()).Should().ThrowAsync<InvalidOperationException>().WithMessage("*InitializeAsync*");
        await FluentActions.Awaiting(() => store.CreateContainerAsync(new ContainerProperties { Name = "box" }).AsTask()).Should().ThrowAsync<InvalidOperationException>();
    }

    [Test]
    public async Task Disposing_releases_the_file_so_the_folder_can_go()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull("a reader connection is open now too");
        await Store.DisposeAsync();

        // The last connection to close checkpoints the log and removes it: only the database is left, and it can be moved away.
        _folder!.Files().Should().Equal("metadata.db");
        var moved = DatabasePath + ".moved";
        File.Move(DatabasePath, moved);
        File.Move(moved, DatabasePath);
        await ReopenStoreAsync();
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull();
    }

    [Test]
    [Platform(Exclude = "Win")]
    public async Task On_Unix_the_write_ahead_log_index_lives_in_the_process_not_in_a_shared_memory_file()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull();

        // The unix-excl VFS: the process holds the file exclusively, so its connections share the WAL index in memory.
        _folder!.Files().Should().Equal("metadata.db", "metadata.db-wal");
        (await Sqlite.ReadPragmaAsync(SqliteMetadataStore.ConnectionPragma.JournalMode, onWriter: false)).Should().Be("wal");
    }

    [Platform(Exclude = "Win")]
    [TestCase("per%20cent")]
    [TestCase("what?vfs=unix")]
    [TestCase("hash#tag")]
    [TestCase("file:name")]
    [TestCase("//double slash")]
    public async Task A_database_path_with_URI_characters_opens_that_very_file(string folderName)
    {
        await Store.DisposeAsync();
        var folder = _folder!.Path + "/" + folderName;
        var path = Path.Combine(folder, "meta%2e.db");
        await using (var store = await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = path }))
        {
            await store.CreateContainerAsync(new ContainerProperties { Name = Box, CreatedOn = T0 });
        }

        Directory.EnumerateFiles(_folder.Path, "*", SearchOption.AllDirectories).Where(f => f != DatabasePath).Should().Equal(Path.GetFullPath(path));
        await using (var store = await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = path }))
        {
            (await store.GetContainerAsync(Box)).Should().NotBeNull();
        }
    }

    [Test]
    public async Task A_read_that_fails_ends_its_snapshot_and_the_connection_serves_the_next_read()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        (await Store.ListBlobsAsync(Box, new BlobListQuery())).Blobs.Should().ContainSingle();

        // The listing fails, alone (no delimiter: one statement) or inside its read transaction (a delimiter); the pooled
        // connection must not keep that snapshot.
        await FluentActions.Awaiting(() => Store.ListBlobsAsync("missing", new BlobListQuery()).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => Store.ListBlobsAsync("missing", new BlobListQuery { Delimiter = "/" }).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
        await CommitAsync(Blob(Box, "b", T0, Chunk(2)));

        (await Store.ListBlobsAsync(Box, new BlobListQuery())).Blobs.Select(b => b.Name).Should().Equal("a", "b");
        (await Store.GetStatisticsAsync()).TotalBlobs.Should().Be(2, "a snapshot read after the listing sees the commit too");
        (await Store.ListBlobsAsync(Box, new BlobListQuery { Include = BlobListTraits.All, PageSize = 1 })).NextStartAt.Should().NotBeNull();
    }

    [Test]
    public async Task A_page_without_rows_is_empty_for_a_container_and_not_found_without_one()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a/1", T0, Chunk(1)));

        // Without a delimiter the listing's statement finds the container by name; no row asks whether it exists.
        (await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "b/" })).Blobs.Should().BeEmpty();
        (await Store.ListBlobsAsync(Box, new BlobListQuery { StartAt = "z"u8.ToArray() })).Blobs.Should().BeEmpty();
        (await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "a/" })).Blobs.Select(b => b.Name).Should().Equal("a/1");
        await FluentActions.Awaiting(() => Store.ListBlobsAsync("missing", new BlobListQuery { Prefix = "a/" }).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
    }

    [Test]
    public async Task Concurrent_commits_from_eight_tasks_all_land()
    {
        await CreateContainerAsync();
        const int PerTask = 12;
        var readers = new CancellationTokenSource();
        var listing = Task.Run(async () =>
        {
            // Reads run beside the writer on their own connections and never see a half-made commit.
            while (!readers.IsCancellationRequested)
            {
                var page = await Store.ListBlobsAsync(Box, new BlobListQuery());
                var stats = await Store.GetStatisticsAsync();
                stats.TotalBlobs.Should().BeGreaterThanOrEqualTo(page.Blobs.Count);
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < PerTask; i++)
            {
                // Chunk 0 is shared by every blob; chunk t is shared within a task; the third is the blob's own.
                await CommitAsync(Blob(Box, $"t{t}/b{i:D3}", T0, Chunk(0, 10), Chunk(100 + t, 20), Chunk(1000 + (t * PerTask) + i, 30)));
            }
        })));
        await readers.CancelAsync();
        await listing;
        readers.Dispose();

        (await ListAllAsync()).Entries.Should().HaveCount(8 * PerTask);
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(8 * PerTask);
        stats.TotalBytes.Should().Be(8 * PerTask * 60);
        stats.WriteOperations.Should().Be(8 * PerTask);
        stats.ChunkCount.Should().Be(1 + 8 + (8 * PerTask));
        stats.StoredBytes.Should().Be(10 + (8 * 20) + (8 * PerTask * 30));
        (await ReferencesAsync(Chunk(0, 10))).Should().Be(8 * PerTask);
        (await ReferencesAsync(Chunk(103, 20))).Should().Be(PerTask);
    }

    [Test]
    public async Task A_commit_waits_for_a_lock_another_connection_holds_and_succeeds_once_it_is_released()
    {
        await CreateContainerAsync();
        await using var store = await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = DatabasePath, BusyTimeout = TimeSpan.FromSeconds(10) });
        using var foreign = OpenForeignConnection();
        using var held = foreign.BeginTransaction(deferred: false);

        // The foreign transaction writes too: a commit that began DEFERRED would read a snapshot from before it
        // and then fail to upgrade (SQLITE_BUSY_SNAPSHOT) however long it waited. BEGIN IMMEDIATE waits instead.
        using (var insert = foreign.CreateCommand())
        {
            insert.CommandText = "INSERT INTO containers (name, storage_class, replication, access_policy, created) VALUES ('foreign', 0, 0, 0, 0);";
            insert.ExecuteNonQuery();
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.WriteTransactionStarting = () => started.TrySetResult();
        var commit = Task.Run(() => store.CommitBlobAsync(Blob(Box, "a", T0, Chunk(1)), null).AsTask());
        var release = Task.Run(async () =>
        {
            await started.Task;

            // Long enough for the commit to find the lock taken; far shorter than its timeout.
            await Task.Delay(300);
            commit.IsCompleted.Should().BeFalse("the commit waits for the lock");
            held.Commit();
        });

        var clock = Stopwatch.StartNew();
        await release;
        var stored = await commit;
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        stored.Properties.Name.Should().Be("a");
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull();
        (await ReferencesAsync(Chunk(1))).Should().Be(1);
        (await Store.GetContainerAsync("foreign")).Should().NotBeNull();
    }

    [Test]
    public async Task A_lock_held_past_the_busy_timeout_fails_the_commit_with_StoreBusy_and_changes_nothing()
    {
        await CreateContainerAsync();
        await using var store = await OpenAsync(new SqliteMetadataStoreOptions { DatabasePath = DatabasePath, BusyTimeout = TimeSpan.FromSeconds(1) });
        using var foreign = OpenForeignConnection();
        var before = await DescribeAsync();
        using (var held = foreign.BeginTransaction(deferred: false))
        {
            var clock = Stopwatch.StartNew();
            var thrown = await FluentActions.Awaiting(() => store.CommitBlobAsync(Blob(Box, "a", T0, Chunk(1)), null).AsTask()).Should().ThrowAsync<BlobStorageException>();
            clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9)).And.BeLessThan(TimeSpan.FromSeconds(10));
            thrown.Which.ErrorCode.Should().Be(BlobErrorCode.StoreBusy);
            thrown.Which.InnerException.Should().BeOfType<SqliteException>();
            thrown.Which.Message.Should().Contain(DatabasePath);

            // Reads go on beside the held lock: WAL readers never wait for the writer.
            (await store.GetContainerAsync(Box)).Should().NotBeNull();
            held.Rollback();
        }

        (await DescribeAsync()).Should().Equal(before);

        // The store is fine afterwards: no transaction was left open on its writer.
        await store.CommitBlobAsync(Blob(Box, "a", T0, Chunk(1)), null);
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull();
    }

    /// <summary>Sets a chunk's reference count to zero behind the store's back, as a bug or a bad edit would.</summary>
    private void ZeroReferences(ChunkReference chunk)
    {
        using var foreign = OpenForeignConnection();
        using var update = foreign.CreateCommand();
        update.CommandText = "UPDATE chunks SET refcount = 0 WHERE id = @id;";
        update.Parameters.AddWithValue("@id", chunk.Id.ToArray());
        update.ExecuteNonQuery().Should().Be(1);
    }

    [Test]
    public async Task A_blob_whose_chunk_row_is_gone_can_still_be_deleted()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2)));
        using (var foreign = OpenForeignConnection())
        {
            using var delete = foreign.CreateCommand();
            delete.CommandText = "DELETE FROM chunks WHERE id = @id;";
            delete.Parameters.AddWithValue("@id", Chunk(1).Id.ToArray());
            delete.ExecuteNonQuery().Should().Be(1);
        }

        await Store.DeleteBlobAsync(Box, "a", null, T(1));
        (await Store.GetBlobAsync(Box, "a")).Should().BeNull();
        (await ReferencesAsync(Chunk(2))).Should().Be(0);
    }

    [Test]
    public async Task A_failure_late_in_a_transaction_rolls_all_of_it_back()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2)));

        // Damage the counts behind the store's back: releasing chunk 2 would take it below zero, after the new chunks were counted.
        ZeroReferences(Chunk(2));

        await ShouldChangeNothingAsync(() => CommitAsync(Blob(Box, "a", T(1), Chunk(3), Chunk(4))), typeof(DataCorruptionException));
        (await Store.ContainsChunkAsync(Chunk(3).Id)).Should().BeFalse("the references counted before the failure were rolled back");
        (await Store.GetBlobAsync(Box, "a"))!.Chunks.Should().Equal(Chunk(1), Chunk(2));

        // The writer is left clean: the next transaction goes through.
        await CommitAsync(Blob(Box, "b", T(2), Chunk(3)));
        (await ReferencesAsync(Chunk(3))).Should().Be(1);
    }

    [Test]
    public async Task Damaged_inline_content_fails_its_read_but_can_still_be_overwritten_or_deleted()
    {
        await CreateContainerAsync();
        await CommitAsync(Inline(Box, "a", T0, [1, 2, 3, 4]));
        await CommitAsync(Inline(Box, "b", T0, [5, 6]));
        using (var foreign = OpenForeignConnection())
        {
            Scalar(foreign, "UPDATE inline_content SET data = x'01020305' WHERE data = x'01020304';");
            Scalar(foreign, "DELETE FROM inline_content WHERE data = x'0506';");
        }

        (await FluentActions.Awaiting(() => Store.GetBlobAsync(Box, "a").AsTask()).Should().ThrowAsync<DataCorruptionException>())
            .Which.Message.Should().Contain("checksum");
        (await FluentActions.Awaiting(() => Store.GetBlobAsync(Box, "b").AsTask()).Should().ThrowAsync<DataCorruptionException>())
            .Which.Message.Should().Contain("missing");

        await CommitAsync(Inline(Box, "a", T(1), [7]));
        (await Store.GetBlobAsync(Box, "a"))!.InlineContent.ToArrayOrNull().Should().Equal(new byte[] { 7 });
        await Store.DeleteBlobAsync(Box, "b", null, T(1));
        (await Store.GetBlobAsync(Box, "b")).Should().BeNull();
    }

    [Test]
    public async Task Writes_queued_behind_a_busy_writer_commit_together_and_a_failing_one_undoes_only_itself()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "taken", T0, Chunk(1)));
        await CommitAsync(Blob(Box, "damaged", T0, Chunk(2)));

        // Overwriting "damaged" will count its new chunk, then fail to release chunk 2: a failure after writes.
        ZeroReferences(Chunk(2));

        var transactions = 0;
        using var gate = new ManualResetEventSlim();
        var firstRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Sqlite.WriteTransactionStarting = () =>
        {
            if (Interlocked.Increment(ref transactions) != 1) return;
            firstRunning.SetResult();
            gate.Wait(TimeSpan.FromSeconds(30));
        };

        var first = Task.Run(() => CommitAsync(Blob(Box, "first", T(1), Chunk(10))));
        await firstRunning.Task;
        var queued = new[]
        {
            CommitAsync(Blob(Box, "q1", T(2), Chunk(11))),
            CommitAsync(Blob(Box, "taken", T(2), Chunk(12)), BlobRequestConditions.CreateOnly),
            CommitAsync(Blob(Box, "damaged", T(2), Chunk(13))),
            CommitAsync(Blob(Box, "q2", T(2), Chunk(11), Chunk(14))),
        };
        while (Sqlite.QueuedWrites < queued.Length) await Task.Yield();
        gate.Set();
        await first;
        await Task.WhenAll(queued.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));

        transactions.Should().Be(2, "the four queued writes shared one transaction");
        queued[0].IsCompletedSuccessfully.Should().BeTrue();
        queued[1].Exception!.InnerException.Should().BeOfType<PreconditionFailedException>();
        queued[2].Exception!.InnerException.Should().BeOfType<DataCorruptionException>();
        queued[3].IsCompletedSuccessfully.Should().BeTrue();
        (await Store.ContainsChunkAsync(Chunk(12).Id)).Should().BeFalse();
        (await Store.ContainsChunkAsync(Chunk(13).Id)).Should().BeFalse("the failed piece's own writes were undone");
        (await ReferencesAsync(Chunk(11))).Should().Be(2);
        (await Store.GetBlobAsync(Box, "taken"))!.Chunks.Should().Equal(Chunk(1));
        (await Store.GetBlobAsync(Box, "damaged"))!.Chunks.Should().Equal(Chunk(2));
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(5);
        stats.WriteOperations.Should().Be(2 + 3, "two setup commits, the first and the two queued that held");
    }

    [Test]
    public async Task A_reader_of_another_connection_does_not_block_a_commit()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        using var foreign = OpenForeignConnection();
        using var snapshot = foreign.BeginTransaction(deferred: true);
        Scalar(foreign, "SELECT COUNT(*) FROM blobs;").Should().Be(1L);

        await CommitAsync(Blob(Box, "b", T0, Chunk(2)));

        Scalar(foreign, "SELECT COUNT(*) FROM blobs;").Should().Be(1L, "the foreign reader keeps its snapshot");
        snapshot.Rollback();
        Scalar(foreign, "SELECT COUNT(*) FROM blobs;").Should().Be(2L);
    }

    [Test]
    public async Task Names_are_stored_as_UTF8_bytes_and_the_collector_scan_uses_its_partial_index()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "é/😀", T0, Chunk(1)));
        using var foreign = OpenForeignConnection();
        Scalar(foreign, "SELECT hex(name) FROM blobs;").Should().Be(Convert.ToHexString("é/😀"u8));
        Scalar(foreign, "SELECT typeof(name) FROM blobs;").Should().Be("blob");
        Scalar(foreign, "SELECT length(chunks) FROM blobs;").Should().Be(36L);

        using var plan = foreign.CreateCommand();
        plan.CommandText = "EXPLAIN QUERY PLAN SELECT id, length FROM chunks WHERE refcount = 0 AND unreferenced_since < 5 ORDER BY unreferenced_since LIMIT 10;";
        using var reader = plan.ExecuteReader();
        var steps = new List<string>();
        while (reader.Read()) steps.Add(reader.GetString(3));
        steps.Should().ContainMatch("*chunks_unreferenced*");
    }
}
