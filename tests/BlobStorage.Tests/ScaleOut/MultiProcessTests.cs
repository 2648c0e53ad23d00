using System.Globalization;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using BlobStorage.Abstractions;
using BlobStorage.Azure;
using BlobStorage.Tests.PostgreSql;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.ScaleOut;

/// <summary>
/// Three processes of <c>tests/BlobStorage.ScaleHost</c> at once over one PostgreSQL schema and one chunk store (a container
/// in Azurite): writers racing with conditions on shared names, readers checking every byte against its hash, a collector with
/// a short grace period; and a process killed (Process.Kill) between the end of an upload's stream and its acknowledgement.
/// What the processes acknowledged is checked against what a fresh store finds at the end.
/// </summary>
[NonParallelizable]
public sealed class MultiProcessTests
{
    private const string Container = "shared";
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);
    private PostgreSqlTestDatabase? _database;
    private TempFolder? _folder;
    private BlobContainerClient? _azure;
    private readonly List<IDisposable> _owned = [];

    [SetUp]
    public void Create()
    {
        _database = PostgreSqlTestDatabase.Create("mp");
        _folder = new TempFolder("multi-process");
    }

    [TearDown]
    public async Task CleanUpAsync()
    {
        foreach (var owned in _owned) owned.Dispose();
        _owned.Clear();
        if (_azure is not null) await _azure.DeleteIfExistsAsync();
        if (_database is not null) await _database.DisposeAsync();
        _folder?.Dispose();
        _azure = null;
        _database = null;
        _folder = null;
    }

    private PostgreSqlTestDatabase Database => _database ?? throw new InvalidOperationException("The schema is made in SetUp.");

    private TempFolder Folder => _folder ?? throw new InvalidOperationException("The folder is made in SetUp.");

    [Test]
    public async Task Writers_readers_and_a_collector_in_three_processes_lose_no_acknowledged_write()
    {
        var shared = await SharedChunkArgumentsAsync();
        await PrepareAsync(shared);
        const int operations = 30;

        var runs = await Task.WhenAll(
            RunAsync(shared, "p0", "writer,reader", seed: 1, operations),
            RunAsync(shared, "p1", "writer,reader", seed: 2, operations),
            RunAsync(shared, "p2", "writer,collector", seed: 3, operations));

        foreach (var run in runs)
        {
            run.Events("ERROR").Should().BeEmpty(run.Stderr);
            run.ExitCode.Should().Be(0, run.Stderr);
            run.Lines.Should().Contain(l => l.StartsWith("DONE ", StringComparison.Ordinal));
        }

        var acks = runs.SelectMany(r => r.Events("ACK")).Select(Ack.Parse).ToList();
        acks.Should().HaveCountGreaterThan(operations, "each writer wins some of its conditional writes");
        runs.SelectMany(r => r.Events("REFUSED")).Should().NotBeEmpty("writers raced on the same names, so some conditions failed");
        runs.Sum(r => r.Events("PASS").Sum(p => long.Parse(p[2], CultureInfo.InvariantCulture)))
            .Should().BeGreaterThan(0, "overwrites left chunks behind and the collector removed some while the others ran");

        await using var fresh = await OpenFreshAsync(shared);
        var finals = await FinalStateAsync(fresh);
        foreach (var (name, writes) in acks.GroupBy(a => a.Name).Select(g => (g.Key, g.ToList())))
        {
            writes.Count(w => w.IsCreate).Should().Be(1, $"exactly one create-only write of {name} won");
            writes.Where(w => !w.IsCreate).Select(w => w.Previous).Should().OnlyHaveUniqueItems($"no two writes to {name} won on the same ETag");
            writes.Where(w => !w.IsCreate && !writes.Any(p => p.ETag == w.Previous)).Should().BeEmpty($"each overwrite of {name} replaced an acknowledged write");
            if (name.StartsWith("once/", StringComparison.Ordinal)) writes.Should().ContainSingle($"{name} is only ever written create-only");

            // The acknowledged writes form one chain from the create; what is there now is its end, byte for byte.
            var tail = writes.Single(w => !writes.Any(next => next.Previous == w.ETag));
            finals.Should().ContainKey(name).WhoseValue.Should().Be((tail.ETag, tail.Hash), $"the last acknowledged write of {name} is the one stored");
        }

        finals.Keys.Should().BeSubsetOf(acks.Select(a => a.Name), "nothing unacknowledged was stored");
        foreach (var read in runs.SelectMany(r => r.Events("READ")))
        {
            acks.Should().Contain(a => a.Name == read[2] && a.ETag == read[3] && a.Hash == read[4], "a reader saw only acknowledged writes, whole");
        }

        var report = await fresh.VerifyAsync(verifyContent: true);
        report.IsClean.Should().BeTrue(Describe(report));
        report.BlobsChecked.Should().Be(finals.Count);
    }

    [Test]
    public async Task A_process_killed_mid_commit_leaves_nothing_the_others_trip_on()
    {
        var shared = await SharedChunkArgumentsAsync();
        await PrepareAsync(shared);

        // The crasher writes 1 to 2 MiB blobs to the shared names and is killed right after the stream of its second
        // upload ended: its last chunks are being written or its commit is in flight. The others carry on meanwhile.
        var runs = await Task.WhenAll(
            RunAsync(shared, "p0", "writer,reader", seed: 11, operations: 60),
            RunAsync(shared, "p1", "reader,collector", seed: 12, operations: 40),
            RunAsync(shared, "p2", "crasher", seed: 13, operations: 50, killOn: CountCommits(2), sizeKb: 2048));
        var crashed = runs[2];
        crashed.Killed.Should().BeTrue("the crasher was still uploading when its second commit began");
        crashed.Lines.Should().NotContain(l => l.StartsWith("DONE ", StringComparison.Ordinal));
        foreach (var run in runs[..2])
        {
            run.Events("ERROR").Should().BeEmpty(run.Stderr);
            run.ExitCode.Should().Be(0, run.Stderr);
        }

        // A process started after the kill works on the same names, collecting as it goes.
        var after = await RunAsync(shared, "p3", "writer,reader,collector", seed: 14, operations: 30);
        after.Events("ERROR").Should().BeEmpty(after.Stderr);
        after.ExitCode.Should().Be(0, after.Stderr);
        after.Events("ACK").Should().NotBeEmpty();

        // Every stored blob is one some process acknowledged, or the killed upload if its commit landed before the kill.
        var all = runs.Append(after).ToList();
        var acks = all.SelectMany(r => r.Events("ACK")).Select(Ack.Parse).ToList();
        var inFlight = crashed.Events("COMMIT").Last()[2];
        // The store is small (six names, tens of chunks) and the killed upload's chunks, up to 32 of 64 KiB, can be more than
        // half of it: a share the default refuses to delete without a person (MaxOrphanShare, a safety against a database
        // that does not match its chunks). Here a person has looked: every orphan may go.
        await using var fresh = await OpenFreshAsync(shared, new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1)), maxOrphanShare: 1);
        var finals = await FinalStateAsync(fresh);
        foreach (var (name, (etag, hash)) in finals)
        {
            if (acks.Any(a => a.Name == name && a.ETag == etag)) acks.Should().Contain(a => a.Name == name && a.ETag == etag && a.Hash == hash);
            else name.Should().Be(inFlight, $"the only write to {name} nobody acknowledged is the one the kill interrupted");
        }

        // Whatever the kill left (chunk files never committed, a removal never ended) is garbage the collector takes.
        await fresh.RunMaintenanceAsync();
        var report = await fresh.VerifyAsync(verifyContent: true);
        report.IsClean.Should().BeTrue(Describe(report));
        report.OrphansWithinGracePeriod.Should().Be(0);
        report.ChunksAwaitingCollection.Should().Be(0);
        (await Database.ScalarAsync("SELECT COUNT(*) FROM {S}.chunk_removals WHERE NOT done;")).Should().Be(0L, "no collection is left open");

        // And the name the kill interrupted takes a conditional write as any other.
        var current = await fresh.GetPropertiesAsync(Container, inFlight).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.ETag : null, TaskScheduler.Default);
        var conditions = current is null ? new BlobRequestConditions { IfNoneMatch = "*" } : new BlobRequestConditions { IfMatch = current };
        var written = await fresh.UploadAsync(Container, inFlight, new MemoryStream(new byte[70_000]), new BlobUploadOptions { Conditions = conditions });
        written.ContentHash.Should().Be(Convert.ToHexStringLower(SHA256.HashData(new byte[70_000])));
    }

    private static Func<string, bool> CountCommits(int limit)
    {
        var seen = 0;
        return line => line.StartsWith("COMMIT ", StringComparison.Ordinal) && ++seen == limit;
    }

    /// <summary>
    /// The chunk store all processes share: a container in Azurite. (A chunk folder cannot be it: FileSystemChunkStore
    /// locks its folder for one process, and a second one opening it is refused with StoreUnavailable.)
    /// </summary>
    private async Task<string[]> SharedChunkArgumentsAsync()
    {
        TestServers.RequireAzurite();
        _azure = new BlobContainerClient(TestServers.AzuriteConnectionString, "bs-multi-" + Guid.NewGuid().ToString("N")[..16]);
        await _azure.CreateAsync();
        return ["--azurite", TestServers.AzuriteConnectionString, "--azure-container", _azure.Name];
    }

    /// <summary>The schema migrated and the container made once, before the processes start together.</summary>
    private async Task PrepareAsync(string[] shared)
    {
        await using var store = await OpenFreshAsync(shared);
        await store.CreateContainerAsync(Container);
    }

    private async Task<IBlobStore> OpenFreshAsync(string[] shared, TimeProvider? time = null, double maxOrphanShare = 0.5)
    {
        IChunkStore chunks = new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = TestServers.AzuriteConnectionString, ContainerName = _azure!.Name });
        if (chunks is IDisposable disposable) _owned.Add(disposable);
        var store = await new BlobStoreBuilder(Path.Combine(Folder.Path, "fresh-" + Guid.NewGuid().ToString("N")[..8]))
            .UsePostgreSqlMetadataStore(PostgreSqlTestDatabase.ConnectionString, Database.Schema)
            .UseChunkStore(chunks)
            .UseTimeProvider(time ?? TimeProvider.System)
            .Configure(o =>
            {
                o.ChunkSize = 64 * 1024;
                o.InlineThreshold = 0;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                o.MaxOrphanShare = maxOrphanShare;
            })
            .OpenAsync();
        return store;
    }

    private Task<ScaleHostRun> RunAsync(string[] shared, string process, string roles, int seed, int operations, Func<string, bool>? killOn = null, int sizeKb = 160) =>
        ScaleHostRunner.RunAsync(
            [
                "--roles", roles, "--pg", PostgreSqlTestDatabase.ConnectionString, "--schema", Database.Schema,
                "--root", Path.Combine(Folder.Path, process), .. shared,
                "--ops", operations.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture),
                "--names", "6", "--container", Container, "--grace-ms", "300", "--size-kb", sizeKb.ToString(CultureInfo.InvariantCulture),
            ],
            killOn,
            ProcessTimeout);

    /// <summary>Each blob's ETag and the SHA-256 of the bytes a download gives, checked against its stored hash.</summary>
    private static async Task<Dictionary<string, (string ETag, string Hash)>> FinalStateAsync(IBlobStore store)
    {
        var finals = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await store.ListAsync(Container, new BlobListOptions { ContinuationToken = token });
            foreach (var blob in page.Blobs)
            {
                await using var download = await store.DownloadAsync(Container, blob.Name);
                var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(download.Content));
                hash.Should().BeEquivalentTo(download.Properties.ContentHash, $"{blob.Name} reads whole");
                finals[blob.Name] = (download.Properties.ETag, hash);
            }

            token = page.ContinuationToken;
        }
        while (token is not null);
        return finals;
    }

    private static string Describe(VerificationReport report) =>
        $"missing {string.Join(", ", report.MissingChunks)}; unreferenced {report.UnreferencedChunks.Count}; count mismatches {report.ReferenceCountMismatches.Count}";

    /// <summary>One ACK line: <c>ACK tag CREATE|UPDATE name etag hash previous</c>.</summary>
    private sealed record Ack(bool IsCreate, string Name, string ETag, string Hash, string? Previous)
    {
        public static Ack Parse(string[] f) => new(f[2] == "CREATE", f[3], f[4], f[5], f[6] == "-" ? null : f[6]);
    }
}
