using System.Security.Cryptography;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.PostgreSql;
using BlobStorage.PostgreSql.Internal;
using BlobStorage.Tests.Support;
using Npgsql;

namespace BlobStorage.Tests.PostgreSql;

/// <summary>
/// What is particular to PostgreSQL: migrations from processes starting together, connection failures as
/// <see cref="BlobErrorCode.StoreUnavailable"/>, conditions racing from two store instances (two "processes"), and a
/// whole store built on it.
/// </summary>
public sealed class PostgreSqlScaleOutTests
{
    private const string PasswordRole = "blobstorage_password_test";
    private PostgreSqlTestDatabase _database = null!;

    [SetUp]
    public void CreateSchema() => _database = PostgreSqlTestDatabase.Create("scale");

    [TearDown]
    public async Task DropSchemaAsync()
    {
        // Null when the server was missing and SetUp ignored (or failed) the test before making the schema.
        if (_database is not null) await _database.DisposeAsync();
        _database = null!;
    }

    [Test]
    public async Task Two_stores_starting_together_migrate_once_and_share_one_store_id()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgreSqlMetadataStore(PostgreSqlTestDatabase.ConnectionString, _database.Schema)).ToList();
        try
        {
            // Four at once: each InitializeAsync creates the schema and applies every step unless another already has.
            await Task.WhenAll(stores.Select(s => s.InitializeAsync().AsTask()));

            var migrations = await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.schema_migrations;");
            migrations.Should().Be((long)PostgreSqlMigrations.Latest);
            (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.store;")).Should().Be(1L);
            var ids = await Task.WhenAll(stores.Select(s => s.GetStoreIdAsync().AsTask()));
            ids.Distinct().Should().ContainSingle().Which.Should().MatchRegex("^[0-9a-f]{32}$");

            // A store opened later finds the work done and applies nothing again.
            await using var later = await _database.OpenAsync();
            (await later.GetStoreIdAsync()).Should().Be(ids[0]);
            (await _database.ScalarAsync("SELECT COUNT(*) FROM {S}.schema_migrations;")).Should().Be((long)PostgreSqlMigrations.Latest);
        }
        finally
        {
            foreach (var store in stores) await store.DisposeAsync();
        }
    }

    [Test]
    public async Task A_schema_of_a_newer_version_is_refused_naming_both_versions()
    {
        await using (var store = await _database.OpenAsync())
        {
            await _database.ScalarAsync($"INSERT INTO {{S}}.schema_migrations (version) VALUES ({PostgreSqlMigrations.Latest + 1});");
        }

        await using var reopened = new PostgreSqlMetadataStore(PostgreSqlTestDatabase.ConnectionString, _database.Schema);
        var act = async () => await reopened.InitializeAsync();
        (await act.Should().ThrowAsync<BlobStorageException>())
            .Where(e => e.ErrorCode == BlobErrorCode.StoreUnavailable)
            .WithMessage($"*schema version {PostgreSqlMigrations.Latest + 1}*up to {PostgreSqlMigrations.Latest}*");
    }

    [TestCase("Host=127.0.0.1;Port=1;Username=postgres;Database=postgres;Timeout=3", TestName = "A port nothing listens on is StoreUnavailable")]
    [TestCase("Host=127.0.0.1;Port={port};Username=postgres;Database=blobstorage_no_such_database;Timeout=5", TestName = "A database that does not exist is StoreUnavailable")]
    [TestCase("Host=127.0.0.1;Port={port};Username=blobstorage_no_such_role;Database=postgres;Timeout=5", TestName = "A role that does not exist is StoreUnavailable")]
    public async Task Connection_failures_are_StoreUnavailable_with_the_cause(string connectionString)
    {
        await using var store = new PostgreSqlMetadataStore(connectionString.Replace("{port}", PortOfTestServer(), StringComparison.Ordinal), _database.Schema);
        var act = async () => await store.InitializeAsync();
        var thrown = (await act.Should().ThrowAsync<BlobStorageException>()).Which;
        thrown.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        thrown.InnerException.Should().BeAssignableTo<NpgsqlException>();
        thrown.Message.Should().Contain(_database.Schema);
    }

    [Test]
    public async Task A_wrong_password_is_StoreUnavailable_and_the_right_one_opens_the_store()
    {
        // .ci/servers makes PostgreSQL ask this role (and only it) for a password.
        await _database.ScalarAsync(
            $"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{PasswordRole}') THEN CREATE ROLE {PasswordRole} LOGIN PASSWORD 'right-password'; END IF; END $$;");
        await _database.ScalarAsync($"GRANT CREATE ON DATABASE postgres TO {PasswordRole};");
        var builder = new NpgsqlConnectionStringBuilder(PostgreSqlTestDatabase.ConnectionString) { Username = PasswordRole, Password = "wrong-password", Pooling = false };

        await using (var wrong = new PostgreSqlMetadataStore(builder.ConnectionString, _database.Schema))
        {
            var act = async () => await wrong.InitializeAsync();
            var thrown = (await act.Should().ThrowAsync<BlobStorageException>()).Which;
            thrown.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
            thrown.InnerException.Should().BeOfType<PostgresException>().Which.SqlState.Should().Be(PostgresErrorCodes.InvalidPassword);
        }

        (await _database.ScalarAsync("SELECT COUNT(*) FROM pg_namespace WHERE nspname = '{S}';".Replace("'{S}'", "'" + _database.Schema + "'", StringComparison.Ordinal)))
            .Should().Be(0L, "a refused connection changes nothing");

        builder.Password = "right-password";
        await using var right = new PostgreSqlMetadataStore(builder.ConnectionString, _database.Schema);
        await right.InitializeAsync();
        (await right.ListContainersAsync()).Should().BeEmpty();
    }

    [Test]
    public void A_connection_string_that_cannot_be_parsed_is_StoreUnavailable()
    {
        var act = () => new PostgreSqlMetadataStore("Host=127.0.0.1;NoSuchKeyword=1", _database.Schema);
        act.Should().Throw<BlobStorageException>().Where(e => e.ErrorCode == BlobErrorCode.StoreUnavailable && e.InnerException is ArgumentException);
    }

    [Test]
    public async Task The_store_is_usable_again_once_its_connections_are_back()
    {
        var application = "bs-reconnect-" + Guid.NewGuid().ToString("N")[..8];
        var builder = new NpgsqlConnectionStringBuilder(PostgreSqlTestDatabase.ConnectionString) { ApplicationName = application };
        await using var store = new PostgreSqlMetadataStore(builder.ConnectionString, _database.Schema);
        await store.InitializeAsync();
        await store.CreateContainerAsync(new ContainerProperties { Name = "before", CreatedOn = DateTimeOffset.UnixEpoch });

        // The server ends every connection of the store's pool, as a restart would.
        (await _database.ScalarAsync($"SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{application}';"))
            .Should().BeOfType<long>().Which.Should().BeGreaterThan(0);

        // A call may fail on a connection the server closed (StoreUnavailable, nothing changed); the pool then opens new ones.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await store.CreateContainerAsync(new ContainerProperties { Name = "after", CreatedOn = DateTimeOffset.UnixEpoch });
                break;
            }
            catch (BlobStorageException ex) when (ex.ErrorCode == BlobErrorCode.StoreUnavailable && attempt < 10)
            {
            }
        }

        (await store.ListContainersAsync()).Select(c => c.Name).Should().Equal("after", "before");
    }

    [Test]
    public async Task Create_only_writes_racing_from_two_stores_on_one_name_let_exactly_one_win()
    {
        await using var first = await _database.OpenAsync();
        await using var second = await _database.OpenAsync();
        await first.CreateContainerAsync(new ContainerProperties { Name = "box", CreatedOn = DateTimeOffset.UnixEpoch });

        for (var round = 0; round < 5; round++)
        {
            var name = "race-" + round;
            var attempts = Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? first : second).CommitBlobAsync(Record(name, i), BlobRequestConditions.CreateOnly).AsTask()).ToList();
            var outcomes = await Outcomes(attempts);
            outcomes.Count(o => o is null).Should().Be(1, "exactly one create-only write wins round {0}", round);
            outcomes.Where(o => o is not null).Should().AllBeOfType<PreconditionFailedException>();
        }

        var statistics = await second.GetStatisticsAsync();
        statistics.TotalBlobs.Should().Be(5);
        statistics.WriteOperations.Should().Be(5, "a refused write counts nothing");
        var chunks = new List<ChunkRecord>();
        await foreach (var chunk in first.EnumerateChunksAsync()) chunks.Add(chunk);
        chunks.Should().HaveCount(5).And.OnlyContain(c => c.ReferenceCount == 1, "a refused write leaves no reference behind");
    }

    [Test]
    public async Task IfMatch_writes_racing_from_two_stores_on_one_ETag_let_exactly_one_win()
    {
        await using var first = await _database.OpenAsync();
        await using var second = await _database.OpenAsync();
        await first.CreateContainerAsync(new ContainerProperties { Name = "box", CreatedOn = DateTimeOffset.UnixEpoch });
        var current = await first.CommitBlobAsync(Record("shared", 100), conditions: null);

        for (var round = 0; round < 5; round++)
        {
            var seen = current.Properties.ETag;
            var attempts = Enumerable.Range(0, 6)
                .Select(i => (i % 2 == 0 ? first : second).CommitBlobAsync(Record("shared", (round * 10) + i), new BlobRequestConditions { IfMatch = seen }).AsTask())
                .ToList();
            var outcomes = await Outcomes(attempts);
            outcomes.Count(o => o is null).Should().Be(1, "exactly one write conditioned on {0} wins", seen);
            current = attempts.Single(a => a.IsCompletedSuccessfully).Result;
            (await second.GetBlobAsync("box", "shared"))!.Properties.ETag.Should().Be(current.Properties.ETag);
        }

        // Each version released the one before it: only the last one's chunk is referenced.
        var chunks = new List<ChunkRecord>();
        await foreach (var chunk in second.EnumerateChunksAsync()) chunks.Add(chunk);
        chunks.Where(c => c.ReferenceCount > 0).Should().ContainSingle().Which.Id.Should().Be(current.Chunks[0].Id);
    }

    private static async Task<List<Exception?>> Outcomes(List<Task<BlobRecord>> attempts)
    {
        var outcomes = new List<Exception?>();
        foreach (var attempt in attempts)
        {
            try
            {
                await attempt;
                outcomes.Add(null);
            }
            catch (Exception ex)
            {
                outcomes.Add(ex);
            }
        }

        return outcomes;
    }

    private static BlobRecord Record(string name, int seed)
    {
        var chunk = new ChunkReference(ChunkId.Compute(Encoding.UTF8.GetBytes(name + "/" + seed)), 100);
        var now = DateTimeOffset.UnixEpoch.AddMinutes(seed);
        return new BlobRecord(
            new BlobProperties
            {
                Container = "box",
                Name = name,
                VersionId = "v" + seed,
                Size = 100,
                ContentType = "application/octet-stream",
                ETag = "\"e-" + name + "-" + seed + "\"",
                ContentHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name + seed))),
                CreatedOn = now,
                LastModified = now,
                Tags = new Dictionary<string, string>(),
                Metadata = new Dictionary<string, string>(),
            },
            [chunk]);
    }

    private static string PortOfTestServer() => new NpgsqlConnectionStringBuilder(PostgreSqlTestDatabase.ConnectionString).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
