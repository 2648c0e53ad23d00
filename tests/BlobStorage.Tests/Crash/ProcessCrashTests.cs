// Process crashes, really killed (issue 5). A separate process, tests/BlobStorage.CrashHost, runs a
// seeded workload against a store and prints BEGIN before and ACK after every call; these tests kill
// it (Process.Kill of the whole tree) a random moment after a random number of ACKs, or let the
// engine end it at each named crash point (BLOBSTORAGE_CRASH_AT, see Diagnostics/CrashPoints.cs),
// then reopen the store in this process and check it: every acknowledged operation is visible or
// superseded by a later acknowledged one (the one call in flight may have happened or not), every
// blob reads back byte for byte as one version that was written, VerifyAsync is clean, and after a
// maintenance pass (grace period zero) no chunk is unreferenced and no temporary file is left.
// Each scenario kills the host several times over the same folder, so every run starts from what
// the last crash left.
//
// CI: 6 scenarios x 5 random kills + 6 crash points x 3 = 48 kills.
// Soak: BLOBSTORAGE_SOAK=500 runs 500 random kills (spread over the 6 scenarios) and 8 per crash point:
//   BLOBSTORAGE_SOAK=500 dotnet test tests/BlobStorage.Tests -c Release --filter "FullyQualifiedName~ProcessCrashTests"
// Replay: the base seed is printed (TestContext.Out, and in every failure); every workload seed, kill
// count and crash hit derives from it (a crash point replays exactly; a kill's moment depends on timing):
//   BLOBSTORAGE_CRASH_SEED=<base seed> dotnet test tests/BlobStorage.Tests -c Release --filter "FullyQualifiedName~ProcessCrashTests"
// A failing test keeps its store folder and prints where it is.
using System.Diagnostics;
using System.Globalization;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Diagnostics;
using BlobStorage.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Tests.Crash;

public class ProcessCrashTests
{
    private const string Container = "crash";
    private const int RandomScenarios = 6;
    private const int RandomKillsPerScenario = 5;
    private const int CrashPointKills = 3;
    private const int SoakCrashPointKills = 8;
    private const int MaxAcksBeforeKill = 60;
    private static readonly TimeSpan HostTimeout = TimeSpan.FromSeconds(120);

    private static readonly string[] CrashPointNames =
    [
        CrashPoints.ChunkTempWritten,
        CrashPoints.ChunkFlushed,
        CrashPoints.ChunkRenamed,
        CrashPoints.ChunkDirectoryFlushed,
        CrashPoints.MidTransaction,
        CrashPoints.Committed,
    ];

    private static readonly Stopwatch Clock = new();
    private static int _baseSeed;
    private static int? _soak;
    private static long _kills, _crashPointKills, _acknowledged, _blobsVerified, _inFlightVisible, _inFlightNotVisible, _tempFilesLeft, _orphansRemoved;

    [OneTimeSetUp]
    public void FindHostAndSeed()
    {
        var seed = Environment.GetEnvironmentVariable("BLOBSTORAGE_CRASH_SEED");
        _baseSeed = string.IsNullOrEmpty(seed) ? Random.Shared.Next() : int.Parse(seed, CultureInfo.InvariantCulture);
        var soak = Environment.GetEnvironmentVariable("BLOBSTORAGE_SOAK");
        _soak = string.IsNullOrEmpty(soak) ? null : int.Parse(soak, CultureInfo.InvariantCulture);
        TestContext.Progress.WriteLine($"Process crash tests: base seed {_baseSeed} (replay with BLOBSTORAGE_CRASH_SEED={_baseSeed}){(_soak is { } n ? $", soak of {n} random kills" : "")}; host {CrashHostRunner.DllPath}");
        Clock.Restart();
    }

    [OneTimeTearDown]
    public void Summarize()
    {
        var summary =
            $"Process crash tests (base seed {_baseSeed}): {_kills} kills ({_kills - _crashPointKills} at random moments, {_crashPointKills} at crash points) in {Clock.Elapsed.TotalSeconds:F1} s; " +
            $"{_acknowledged} acknowledged operations checked, {_blobsVerified} blobs read back and verified; " +
            $"the call in flight was visible after {_inFlightVisible} crashes and not after {_inFlightNotVisible}; " +
            $"crashes left {_tempFilesLeft} temporary files and {_orphansRemoved} unreferenced chunk files, all removed.";
        TestContext.Out.WriteLine(summary);
        TestContext.Progress.WriteLine(summary);
    }

    [Test]
    public async Task Killed_at_a_random_moment_the_store_keeps_every_acknowledged_operation([Range(0, RandomScenarios - 1)] int scenario)
    {
        var random = new Random(Mix(_baseSeed, scenario));
        var kills = _soak is { } total ? (total + RandomScenarios - 1) / RandomScenarios : RandomKillsPerScenario;
        await RunScenarioAsync($"random-{scenario}", random, kills, _ => null);
    }

    [TestCase(CrashPoints.ChunkTempWritten)]
    [TestCase(CrashPoints.ChunkFlushed)]
    [TestCase(CrashPoints.ChunkRenamed)]
    [TestCase(CrashPoints.ChunkDirectoryFlushed)]
    [TestCase(CrashPoints.MidTransaction)]
    [TestCase(CrashPoints.Committed)]
    public async Task Killed_at_a_crash_point_the_store_keeps_every_acknowledged_operation(string point)
    {
        var random = new Random(Mix(_baseSeed, 100 + Array.IndexOf(CrashPointNames, point)));
        // Hits low enough that every workload reaches them: most calls commit a transaction, about half write new chunks, a third commit an upload.
        var maxHit = point switch
        {
            CrashPoints.Committed => 20,
            CrashPoints.MidTransaction => 60,
            _ => 40,
        };
        await RunScenarioAsync($"crash-{point}", random, _soak is null ? CrashPointKills : SoakCrashPointKills, r => $"{point}:{r.Next(1, maxHit + 1)}");
    }

    private static async Task RunScenarioAsync(string label, Random random, int kills, Func<Random, string?> crashAt)
    {
        var root = Path.Combine(Path.GetTempPath(), "blobstorage-tests", $"crash-{label}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(Path.GetDirectoryName(root)!);
        var model = new CrashModel();
        var passed = false;
        try
        {
            for (var generation = 0; generation < kills; generation++)
            {
                var seed = random.Next();
                var point = crashAt(random);
                // One random kill in eight lands early: while the runtime starts, the store recovers from the last crash, or the first calls run.
                var early = point is null && random.Next(8) == 0;
                var killAfter = point is not null ? (int?)null : early ? 0 : random.Next(1, MaxAcksBeforeKill + 1);
                var delay = TimeSpan.FromMilliseconds(point is not null ? 0 : early ? random.Next(50, 600) : random.Next(0, 10));
                var how = point is not null ? $"BLOBSTORAGE_CRASH_AT={point}"
                    : early ? $"killed {delay.TotalMilliseconds:F0} ms after its start"
                    : $"killed {delay.TotalMilliseconds:F0} ms after ACK {killAfter}";
                var context = $"{label}, run {generation}: seed {seed} (base seed {_baseSeed}), {how}";

                var run = await CrashHostRunner.RunAsync(root, seed, point is null ? 1000 : 400, point, killAfter, delay, HostTimeout);
                try
                {
                    model.Read(run, seed);
                }
                catch (AssertionException ex)
                {
                    throw new AssertionException($"{context}: {ex.Message}", ex);
                }

                CheckEnding(run, point, context);
                Interlocked.Increment(ref _kills);
                if (point is not null) Interlocked.Increment(ref _crashPointKills);
                Interlocked.Add(ref _acknowledged, model.Acknowledged);
                var pending = model.Pending is { } p ? $"{p.Operation} {p.Blob}" : "nothing";
                TestContext.Out.WriteLine($"{context}: {model.Acknowledged} ACKs in {run.Elapsed.TotalMilliseconds:F0} ms, in flight: {pending}");

                await CheckStoreAsync(root, model, point, context);
            }

            passed = true;
        }
        finally
        {
            if (passed) DeleteFolder(root);
            else TestContext.Out.WriteLine($"The store is kept for inspection at {root}");
        }
    }

    private static void CheckEnding(HostRun run, string? point, string context)
    {
        run.Lines.Should().NotContain("DONE", $"the host must die before finishing its workload ({context})");
        if (point is null)
        {
            run.Killed.Should().BeTrue($"the host is killed after its ACKs ({context})");
            run.Stderr.Should().BeEmpty($"the host reports nothing on stderr until killed ({context})");
        }
        else
        {
            var name = point[..point.IndexOf(':', StringComparison.Ordinal)];
            run.Stderr.Should().Contain($"BlobStorage crash point '{name}' reached", $"the engine ends the host at the crash point ({context}); exit code {run.ExitCode}");
        }
    }

    /// <summary>Reopens the store the host left and checks it against the model; what it holds becomes the next run's baseline.</summary>
    private static async Task CheckStoreAsync(string root, CrashModel model, string? point, string context)
    {
        var chunks = Path.Combine(root, "chunks");
        var temp = Path.Combine(chunks, ".tmp");
        Interlocked.Add(ref _tempFilesLeft, Directory.Exists(temp) ? Directory.GetFiles(temp).Length : 0);
        var chunkFilesLeft = ChunkFiles(chunks).Count;

        var problems = new List<string>();
        await using var store = await new BlobStoreBuilder(root)
            .Configure(o =>
            {
                o.ChunkSize = 64 * 1024;
                o.MultipartMinimumPartSize = 64 * 1024;
                o.GarbageCollectionGracePeriod = TimeSpan.Zero;

                // A kill between a collection's durable commit and its file deletes leaves every chunk it released
                // as an orphan, often most of these small stores: the check wants them gone at this open.
                o.MaxOrphanShare = 1;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            })
            .OpenAsync();
        Interlocked.Add(ref _orphansRemoved, chunkFilesLeft - ChunkFiles(chunks).Count);

        var containerExists = await ContainerExistsAsync(store);
        IReadOnlyList<bool> containerStates = point is null ? model.AcceptableContainer() : [model.ContainerAcknowledged];
        if (!containerStates.Contains(containerExists))
        {
            problems.Add($"container '{Container}' {(containerExists ? "exists" : "is missing")}; acknowledged, it {(model.ContainerAcknowledged ? "exists" : "does not")}, and the call in flight was {model.Pending?.Operation ?? "none"}");
        }

        // Every blob reads back whole as one version written to its name.
        var found = new SortedDictionary<string, BlobVersion>(StringComparer.Ordinal);
        long totalBytes = 0;
        if (containerExists)
        {
            await foreach (var blob in store.ListAllAsync(Container))
            {
                await using var download = await store.DownloadAsync(Container, blob.Name);
                var bytes = await Streams.ReadAllAsync(download.Content);
                var hash = Streams.Sha256(bytes);
                var properties = download.Properties;
                if (!model.WasWritten(blob.Name, hash))
                {
                    problems.Add($"blob '{blob.Name}' reads back as {bytes.Length} bytes with SHA-256 {hash}, which is no version ever written to it. This run: {model.History(blob.Name)}");
                }

                if (properties.Size != bytes.Length) problems.Add($"blob '{blob.Name}' says it holds {properties.Size} bytes and reads back {bytes.Length}");
                // A multipart blob's hash is S3's composite "<hash of part hashes>-<parts>"; any other is the SHA-256 of the bytes.
                if (properties.PartCount == 0 ? properties.ContentHash != hash : !properties.ContentHash.EndsWith($"-{properties.PartCount}", StringComparison.Ordinal))
                {
                    problems.Add($"blob '{blob.Name}' of {properties.PartCount} parts says its content hash is {properties.ContentHash} and reads back with SHA-256 {hash}");
                }

                found[blob.Name] = new BlobVersion(hash, properties.Metadata.GetValueOrDefault("v") ?? "(none)");
                totalBytes += bytes.Length;
                Interlocked.Increment(ref _blobsVerified);
            }
        }

        // Every acknowledged operation is visible unless a later one superseded it; the call in flight may or may not be.
        foreach (var name in model.Names.Union(found.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            var actual = found.GetValueOrDefault(name);
            if (actual is null && containerExists && await ExistsAsync(store, name))
            {
                problems.Add($"blob '{name}' is missing from the listing, yet its properties can be read");
            }

            var acceptable = model.Acceptable(name, containerExists);
            if (point is not null && model.Pending is { ChangesBlob: true } inFlight && inFlight.Blob == name)
            {
                // A crash point pins the call in flight down: "committed" sits after its transaction committed, every
                // other one before (a chunk of it being written, or its transaction not yet committed). Container
                // calls reach only "mid-transaction", so the container too must be as acknowledged (above).
                acceptable = point.StartsWith(CrashPoints.Committed + ":", StringComparison.Ordinal) ? [inFlight.After] : [model.AckedState(name)];
            }

            if (!acceptable.Contains(actual))
            {
                problems.Add($"blob '{name}' is {Describe(actual)}; it must be {string.Join(" or ", acceptable.Select(Describe))}. This run: {model.History(name)}");
            }
        }

        if (model.Pending is { ChangesBlob: true } pending && pending.After != model.AckedState(pending.Blob))
        {
            Interlocked.Increment(ref found.GetValueOrDefault(pending.Blob) == pending.After ? ref _inFlightVisible : ref _inFlightNotVisible);
        }

        var verified = await store.VerifyAsync(verifyContent: true);
        if (!verified.IsClean) problems.Add($"VerifyAsync after reopening: {Describe(verified)}");

        // Uploads the crash left open hold their parts' chunks; aborted, those must be collected like any other.
        var open = new List<string>();
        if (containerExists)
        {
            await foreach (var upload in store.ListMultipartUploadsAsync(Container)) open.Add(upload.UploadId);
        }

        foreach (var uploadId in open) await store.AbortMultipartUploadAsync(uploadId);
        await store.RunMaintenanceAsync();
        var collected = await store.VerifyAsync();
        if (!collected.IsClean || collected.ChunksAwaitingCollection != 0)
        {
            problems.Add($"VerifyAsync after maintenance with no grace period: {Describe(collected)}");
        }

        var tempFiles = Directory.Exists(temp) ? Directory.GetFiles(temp) : [];
        if (tempFiles.Length > 0) problems.Add($"{tempFiles.Length} temporary files are left in {temp}");

        // The totals are kept in the same transactions as the blobs, so a crash cannot skew them either.
        var statistics = await store.GetStatisticsAsync();
        var files = ChunkFiles(chunks);
        var storedBytes = files.Sum(ContentLength);
        if (statistics.TotalBlobs != found.Count || statistics.TotalBytes != totalBytes)
        {
            problems.Add($"statistics count {statistics.TotalBlobs} blobs of {statistics.TotalBytes} bytes; the container holds {found.Count} of {totalBytes}");
        }

        var inline = InlineContent(root);
        if (inline.WrongCounts > 0) problems.Add($"{inline.WrongCounts} rows of inline content have a reference count other than the number of blobs that use them");
        if (statistics.ChunkCount != files.Count || statistics.StoredBytes != storedBytes + inline.Bytes)
        {
            problems.Add($"statistics count {statistics.ChunkCount} chunks and {statistics.StoredBytes} bytes stored; the chunk folder holds {files.Count} chunks of {storedBytes} bytes and the database {inline.Bytes} bytes of inline content");
        }

        problems.Should().BeEmpty($"the store must keep what it acknowledged ({context}); store at {root}");
        model.Reset(containerExists, found);
    }

    private static async Task<bool> ExistsAsync(IBlobStore store, string name)
    {
        try
        {
            await store.GetPropertiesAsync(Container, name);
            return true;
        }
        catch (BlobNotFoundException)
        {
            return false;
        }
    }

    private static async Task<bool> ContainerExistsAsync(IBlobStore store)
    {
        try
        {
            await store.GetContainerAsync(Container);
            return true;
        }
        catch (ContainerNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Small blobs kept in the metadata database (schema 3 on): their bytes, which the statistics count as
    /// stored, and rows whose reference count is not the number of blobs using them. VerifyAsync covers
    /// chunks only, so this looks at the table itself, read-only, beside the open store.
    /// </summary>
    private static (long Bytes, long WrongCounts) InlineContent(string root)
    {
        var database = new SqliteConnectionStringBuilder { DataSource = Path.Combine(root, "metadata.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(database.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'inline_content';";
        if ((long)command.ExecuteScalar()! == 0) return (0, 0);
        command.CommandText =
            """
            SELECT COALESCE(SUM(length(data)), 0),
                   (SELECT COUNT(*) FROM inline_content i WHERE i.refcount != (SELECT COUNT(*) FROM blobs b WHERE b.inline_id = i.id))
            FROM inline_content;
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The chunk files (<c>chunks/ab/abcd…</c>), not the lock or temporary files.</summary>
    private static List<string> ChunkFiles(string chunks) =>
        !Directory.Exists(chunks) ? [] : [.. Directory.EnumerateDirectories(chunks).Where(d => Path.GetFileName(d).Length == 2).SelectMany(Directory.EnumerateFiles)];

    private static string Describe(BlobVersion? state) => state?.ToString() ?? "absent";

    private static string Describe(VerificationReport report) =>
        $"{report.MissingChunks.Count} missing chunks [{string.Join(", ", report.MissingChunks.Take(5).Select(m => $"{m.Name}: {m.Chunk} {m.Reason}"))}], " +
        $"{report.UnreferencedChunks.Count} unreferenced [{string.Join(", ", report.UnreferencedChunks.Take(5))}], " +
        $"{report.ReferenceCountMismatches.Count} reference counts wrong [{string.Join(", ", report.ReferenceCountMismatches.Take(5))}], " +
        $"{report.ChunksAwaitingCollection} awaiting collection";

    private static int Mix(int seed, int key) => unchecked((seed * 486187739) + (key * 16777619) + 1);

    private static void DeleteFolder(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Only a temporary folder: the system cleans it up if a handle still held it.
        }
    }

    /// <summary>The content length a chunk file's header records (at byte 8 in both <c>BSCHUNK1</c> and <c>BSCHUNK2</c>).</summary>
    private static long ContentLength(string chunkFile)
    {
        using var file = File.OpenHandle(chunkFile);
        Span<byte> header = stackalloc byte[16];
        return RandomAccess.Read(file, header, 0) == header.Length ? System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(header[8..]) : 0;
    }
}
