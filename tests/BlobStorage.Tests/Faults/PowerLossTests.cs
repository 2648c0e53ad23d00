using System.Diagnostics;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Faults;

/// <summary>
/// Seeded workloads over a disk that forgets what was not flushed: the power is cut between two
/// operations or from inside one, the store is reopened on the plain disk, and what it holds is checked.
/// The SQLite database is in the cut too: it is put back as the last flush of its write-ahead log left
/// it (see <see cref="FaultyStore"/>). With <see cref="SynchronousMode.Full"/> every acknowledged blob must
/// read back with its hash; with <see cref="SynchronousMode.Normal"/> the last commits may be lost, but the
/// store must be as after some prefix of the operations, no earlier than its last flush, and whole: no
/// blob whose chunks are gone.
/// Replay one seed with <c>BLOBSTORAGE_POWERLOSS_SEED=n</c>; <c>BLOBSTORAGE_SOAK=k</c> runs k times as many.
/// </summary>
public class PowerLossTests
{
    private const int CiSeeds = 200;
    private const string Container = "power";
    private static readonly string[] Names = ["n0", "n1", "n2", "dir/n3", "dir/n4"];

    /// <summary>
    /// For tests that keep the SQLite files out of the simulated cut (they stay as the running process left
    /// them): SQLite's own fsyncs add nothing there, only time, so they are turned off.
    /// </summary>
    internal static void SqliteUnsynced(BlobStorageOptions o) => o.SynchronousMode = SynchronousMode.Normal;

    /// <summary>Small blobs as chunk files too, for tests about chunk files.</summary>
    internal static void NoInline(BlobStorageOptions o) => o.InlineThreshold = 0;

    internal static int Soak => int.TryParse(Environment.GetEnvironmentVariable("BLOBSTORAGE_SOAK"), out var k) && k > 0 ? k : 1;

    internal static int? ReplaySeed => int.TryParse(Environment.GetEnvironmentVariable("BLOBSTORAGE_POWERLOSS_SEED"), out var s) ? s : null;

    [TestCase(SynchronousMode.Full, TestName = "Every acknowledged blob survives a power cut (SynchronousMode.Full)")]
    [TestCase(SynchronousMode.Normal, TestName = "A power cut loses at most the last commits and never a chunk a blob needs (SynchronousMode.Normal)")]
    public async Task Every_acknowledged_blob_survives_a_power_cut(SynchronousMode mode)
    {
        var seeds = ReplaySeed is { } one ? [one] : Enumerable.Range(1, CiSeeds * Soak).ToArray();
        var totals = new Totals();
        var failures = new List<SeedResult>();
        var clock = Stopwatch.StartNew();
        using var folder = new TempFolder("powerloss");
        foreach (var seed in seeds)
        {
            var result = await RunSeedAsync(seed, Mutation.None, folder, mode);
            totals.Add(result);
            if (result.Failure is not null) failures.Add(result);
        }

        TestContext.Out.WriteLine($"Power loss ({mode}): {totals} in {clock.Elapsed.TotalSeconds:F1} s; failing seeds: {(failures.Count == 0 ? "none" : string.Join(", ", failures.Select(f => f.Seed)))}");
        failures.Should().BeEmpty(
            "the store after a power cut must hold what it held at its last durable commit or later, whole; replay with BLOBSTORAGE_POWERLOSS_SEED=<seed>. First failures:\n{0}",
            string.Join("\n\n", failures.Take(3).Select(f => f.Failure)));
    }

    /// <summary>The suite has teeth: with directory flushes turned into no-ops, acknowledged blobs are lost.</summary>
    [Test]
    public async Task Mutation_without_directory_flush_loses_acknowledged_blobs()
    {
        var lost = 0;
        var totals = new Totals();
        using var folder = new TempFolder("powerloss");
        for (var seed = 1; seed <= 30; seed++)
        {
            var result = await RunSeedAsync(seed, Mutation.IgnoreDirectoryFlush, folder);
            totals.Add(result);
            if (result.LostAcknowledged) lost++;
        }

        TestContext.Out.WriteLine($"Mutation (no directory flush): {lost} of 30 seeds lost an acknowledged blob; {totals}");
        lost.Should().BeGreaterThan(0, "a store whose directory flushes do nothing must lose acknowledged blobs in some power cut");
    }

    /// <summary>And with file flushes turned into no-ops, a chunk survives as an empty or torn file: detected, but lost.</summary>
    [Test]
    public async Task Mutation_without_file_flush_loses_acknowledged_blobs()
    {
        var lost = 0;
        using var folder = new TempFolder("powerloss");
        for (var seed = 1; seed <= 30; seed++)
        {
            var result = await RunSeedAsync(seed, Mutation.IgnoreFileFlush, folder);
            if (result.LostAcknowledged) lost++;
        }

        TestContext.Out.WriteLine($"Mutation (no file flush): {lost} of 30 seeds lost an acknowledged blob");
        lost.Should().BeGreaterThan(0);
    }

    /// <summary>
    /// A directory flush fails after the chunk file was renamed into place: the upload fails, but the
    /// file stays visible and not durable. A later upload of the same bytes must not trust it.
    /// </summary>
    [Test]
    public async Task Upload_after_a_failed_directory_flush_of_the_same_chunk_survives_a_power_cut()
    {
        await using var h = await FaultyStore.OpenAsync(NoInline);
        await h.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(1000, seed: 42);

        h.Files.FailAt(1, FileOp.FlushDirectory);
        var first = () => h.Store.UploadBytesAsync(Container, "first", content);
        (await first.Should().ThrowAsync<BlobStorageException>()).Where(e => e.ErrorCode == BlobErrorCode.IOError && e.InnerException is InjectedIOException);

        var acknowledged = await h.Store.UploadBytesAsync(Container, "second", content);
        h.Files.PowerCut(new Random(1), new PowerCutOptions { TornWriteProbability = 0 });
        await h.ReopenOnPlainDiskAsync();

        var read = await ReadOrExceptionAsync(h.Store, "second");
        read.Should().Be(acknowledged.ContentHash, "'second' was acknowledged before the power cut");
    }

    /// <summary>
    /// Two uploads of the same bytes at once: the second finds the first one's chunk file renamed into
    /// place but its directory not yet flushed. It must not acknowledge before that file is durable.
    /// </summary>
    [Test]
    public async Task Concurrent_upload_of_the_same_chunk_is_durable_before_it_is_acknowledged()
    {
        await using var h = await FaultyStore.OpenAsync(NoInline);
        await h.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(1000, seed: 43);
        var held = new ManualResetEventSlim(false);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var once = 0;
        h.Files.BeforeOperationUnlocked = (op, _) =>
        {
            if (op == FileOp.FlushDirectory && Interlocked.Exchange(ref once, 1) == 0)
            {
                reached.SetResult();
                held.Wait(TimeSpan.FromSeconds(30));
            }
        };

        var first = Task.Run(() => h.Store.UploadBytesAsync(Container, "first", content));
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        BlobProperties? acknowledged = null;
        try
        {
            acknowledged = await h.Store.UploadBytesAsync(Container, "second", content).WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            // The second upload waited for the first one's flush: it cannot acknowledge early. Correct.
        }

        h.Files.PowerCut(new Random(1), new PowerCutOptions { TornWriteProbability = 0 });
        held.Set();
        var firstOutcome = async () => await first;
        (await firstOutcome.Should().ThrowAsync<BlobStorageException>("the power went before the first upload's directory flush")).Where(e => e.InnerException is PowerCutException);
        if (acknowledged is null)
        {
            // The second upload did not acknowledge before the first one's chunk was durable: the safe outcome,
            // already checked above (the first upload failed and nothing claimed its chunk as stored).
            return;
        }

        await h.ReopenOnPlainDiskAsync();
        var read = await ReadOrExceptionAsync(h.Store, "second");
        read.Should().Be(acknowledged.ContentHash, "'second' was acknowledged before the power cut");
    }

    /// <summary>A store's first open makes the chunk folder and its shards: a power cut right after its first upload keeps them.</summary>
    [Test]
    public async Task A_first_open_makes_its_folders_durable()
    {
        await using var h = await FaultyStore.OpenAsync(NoInline, durableOpen: false);
        await h.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(2 * FaultyStore.ChunkSize + 5, seed: 44);
        var acknowledged = await h.Store.UploadBytesAsync(Container, "first", content);

        var cut = h.Files.PowerCut(new Random(1), new PowerCutOptions { TornWriteProbability = 0 });
        await h.ReopenOnPlainDiskAsync();

        (await ReadOrExceptionAsync(h.Store, "first")).Should().Be(acknowledged.ContentHash, $"the upload was acknowledged; the cut did: {cut}");
        (await h.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    /// <summary>A power cut anywhere in a first open (folders half made): the next open finishes the job.</summary>
    [Test]
    public async Task A_power_cut_during_a_first_open_leaves_a_store_that_opens()
    {
        // The open's operations: 2 existence checks, the chunk folder, .tmp, 256 shards (up to 260), the
        // flush of the chunk folder (261) and of the store folder (262), the .tmp scan (263), then the
        // orphan scan of the shards. A cut before, inside and after each step.
        var cuts = 0;
        foreach (var n in new[] { 3, 130, 261, 262, 500, 100_000 })
        {
            // A new folder each time: a first open is one that finds nothing.
            using var folder = new TempFolder("powerloss");
            var at = n;
            var cutFired = false;
            await using var h = await FaultyStore.OpenAsync(NoInline, fs => fs.CutPowerAt(at, new Random(at)), reuse: folder, durableOpen: false)
                .ContinueWith(t =>
                {
                    cutFired = t.IsFaulted;
                    return t.IsFaulted ? null! : t.Result;
                });
            if (h is not null)
            {
                // The open made fewer operations than that: nothing was cut.
                break;
            }

            cutFired.Should().BeTrue();
            cuts++;
            var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
            await using var store = await new BlobStoreBuilder(folder.Path).Configure(o =>
            {
                o.ChunkSize = FaultyStore.ChunkSize;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                NoInline(o);
            }).UseTimeProvider(time).OpenAsync();
            await store.CreateContainerAsync(Container);
            var content = Streams.Bytes(FaultyStore.ChunkSize + 5, seed: at);
            await store.UploadBytesAsync(Container, "x", content);
            (await store.DownloadBytesAsync(Container, "x")).Should().Equal(content, $"after a power cut at operation {at} of the first open");
            (await store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        }

        TestContext.Out.WriteLine($"{cuts} power cuts during a first open, each followed by a good open");
        cuts.Should().Be(5);
    }

    internal enum Mutation
    {
        None,
        IgnoreDirectoryFlush,
        IgnoreFileFlush,
    }

    internal sealed class SeedResult
    {
        public int Seed { get; init; }

        public int Acknowledged { get; set; }

        public bool CutInside { get; set; }

        public PowerCutReport? Cut { get; set; }

        public string? Failure { get; set; }

        public bool LostAcknowledged { get; set; }
    }

    private sealed class Totals
    {
        private int _seeds, _inside, _acknowledged, _lost, _torn, _truncated;

        public void Add(SeedResult r)
        {
            _seeds++;
            if (r.CutInside) _inside++;
            _acknowledged += r.Acknowledged;
            _lost += r.Cut?.EntriesLost ?? 0;
            _torn += r.Cut?.TornWrites ?? 0;
            _truncated += r.Cut?.FilesTruncated ?? 0;
        }

        public override string ToString() =>
            $"{_seeds} power cuts ({_inside} inside an operation, {_seeds - _inside} between), {_acknowledged} acknowledged operations checked, {_lost} unsynced entries undone, {_truncated} files truncated, {_torn} torn writes";
    }

    /// <summary>One seed: a workload, a cut, a restart on the plain disk, the checks.</summary>
    internal static async Task<SeedResult> RunSeedAsync(int seed, Mutation mutation, TempFolder folder, SynchronousMode mode = SynchronousMode.Full)
    {
        var result = new SeedResult { Seed = seed };
        var rng = new Random(seed);
        var cutRng = new Random(seed * 7919 + 17);
        var journal = new StringBuilder();
        await using var h = await FaultyStore.OpenAsync(
            o =>
            {
                o.SynchronousMode = mode;

                // A cut in Normal mode may undo many uploads at once: their chunk files are all orphans, and the check wants them gone.
                o.OrphanDeletionFloor = 1000;
            },
            reuse: folder,
            cutDatabase: true);
        h.Files.Trace = true;
        h.Files.IgnoreDirectoryFlush = mutation == Mutation.IgnoreDirectoryFlush;
        h.Files.IgnoreFileFlush = mutation == Mutation.IgnoreFileFlush;
        var store = h.Store;
        await store.CreateContainerAsync(Container);
        h.MarkDatabaseDurable();

        var operations = rng.Next(6, 15);
        var cutBefore = rng.Next(operations + 1);
        var inside = cutBefore < operations && rng.Next(3) != 0;
        var within = rng.Next(1, 12);
        // In Normal mode the database loses its unflushed commits; a cut that keeps the file system's unsynced deletes with them is where a collector that ran ahead of the database shows.
        var cutOptions = new PowerCutOptions { TornWriteProbability = 0.5, KeepUnsyncedEntries = rng.Next(mode == SynchronousMode.Normal ? 2 : 4) == 0 };
        journal.AppendLine(CultureInvariant($"seed {seed}: {operations} operations, cut {(inside ? $"inside operation {cutBefore} at its file operation {within}" : $"before operation {cutBefore}")}, keep unsynced entries: {cutOptions.KeepUnsyncedEntries}, mutation {mutation}"));

        var acked = new Dictionary<string, string?>(StringComparer.Ordinal);

        // The state after each acknowledged operation, and the last one the database's log was flushed in or after.
        var history = new List<Dictionary<string, string?>> { new(acked, StringComparer.Ordinal) };
        var flushedState = 0;
        var contents = new List<byte[]>();
        (string Name, string? Hash)? inflight = null;
        try
        {
            for (var i = 0; i < operations && !h.Files.IsPoweredOff; i++)
            {
                if (i == cutBefore && !inside)
                {
                    result.Cut = h.Files.PowerCut(cutRng, cutOptions);
                    break;
                }

                var op = NextOperation(rng, acked, contents);
                journal.Append(CultureInvariant($"  {i}: {op}"));
                if (i == cutBefore)
                {
                    result.CutInside = true;
                    h.Files.CutPowerAt(within, cutRng, options: cutOptions);
                }

                var flushesBefore = h.DatabaseFlushes;
                try
                {
                    await ExecuteAsync(h, op, acked);
                    if (h.Files.IsPoweredOff)
                    {
                        // It completed after the power went (a fault swallowed on the way): nobody saw the acknowledgement.
                        journal.AppendLine(" -> completed after the power cut, unacknowledged");
                        inflight = op.Effect;
                        break;
                    }

                    journal.AppendLine(h.DatabaseFlushes > flushesBefore ? " -> ok, log flushed" : " -> ok");
                    if (op.Effect is { } effect) acked[effect.Name] = effect.Hash;
                    history.Add(new(acked, StringComparer.Ordinal));
                    if (h.DatabaseFlushes > flushesBefore) flushedState = history.Count - 1;
                    result.Acknowledged++;
                }
                catch (Exception ex) when (h.Files.IsPoweredOff)
                {
                    journal.AppendLine(CultureInvariant($" -> power cut ({ex.GetType().Name})"));
                    inflight = op.Effect;
                    break;
                }

                if (i == cutBefore)
                {
                    // The operation did fewer file operations than the cut waited for: cut right after it.
                    h.Files.ClearFaults();
                    result.Cut = h.Files.PowerCut(cutRng, cutOptions);
                    result.CutInside = false;
                    break;
                }
            }

            if (!h.Files.IsPoweredOff) result.Cut = h.Files.PowerCut(cutRng, cutOptions);
            journal.AppendLine(CultureInvariant($"  power cut: {result.Cut?.ToString() ?? "inside the operation"}"));
        }
        catch (Exception ex)
        {
            result.Failure = $"{journal}\nUnexpected exception before the power cut: {ex}";
            return result;
        }

        try
        {
            await h.ReopenOnPlainDiskAsync();
            var problems = await CheckAsync(h, history, flushedState, inflight, result);
            if (problems.Count > 0)
            {
                result.Failure = $"{journal}\n{string.Join("\n", problems)}\nLast file operations:\n{string.Join("\n", h.Files.TraceLines.TakeLast(40))}";
            }
        }
        catch (Exception ex)
        {
            result.LostAcknowledged = true;
            result.Failure = $"{journal}\nReopening or checking failed: {ex}\nLast file operations:\n{string.Join("\n", h.Files.TraceLines.TakeLast(40))}";
        }

        return result;
    }

    /// <summary>
    /// The store after the cut must be one of the states after the last flush of the database's log (the last
    /// with the operation in flight applied, if it got that far), and whole: every blob reads back, no chunk
    /// is missing, no count is wrong, and orphan chunk files go once they are past the grace period.
    /// </summary>
    private static async Task<List<string>> CheckAsync(FaultyStore h, List<Dictionary<string, string?>> history, int flushedState, (string Name, string? Hash)? inflight, SeedResult result)
    {
        var problems = new List<string>();
        var store = h.Store;
        var actual = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in Names) actual[name] = await ReadOrExceptionAsync(store, name);

        var allowed = history.Skip(flushedState).ToList();
        if (inflight is { } f) allowed.Add(new(history[^1], StringComparer.Ordinal) { [f.Name] = f.Hash });
        static string Show(Dictionary<string, string?> state) => string.Join(", ", Names.Select(n => $"{n}={(state.GetValueOrDefault(n) is { } hash ? hash[..Math.Min(8, hash.Length)] : "-")}"));
        if (!allowed.Any(state => Names.All(n => state.GetValueOrDefault(n) == actual[n])))
        {
            problems.Add($"the store holds {Show(actual)}; allowed were the states since the last flush of the log (state {flushedState} of {history.Count - 1}):\n    {string.Join("\n    ", allowed.Select(Show))}");
            result.LostAcknowledged = true;
        }

        await foreach (var blob in store.ListAllAsync(Container))
        {
            if (!Names.Contains(blob.Name)) problems.Add($"listed '{blob.Name}', which was never written");
        }

        var report = await store.VerifyAsync(verifyContent: true);
        if (report.MissingChunks.Count > 0)
        {
            problems.Add($"VerifyAsync: missing or corrupt chunks: {string.Join("; ", report.MissingChunks.Select(m => $"{m.Name} {m.Chunk}: {m.Reason}"))}");
            result.LostAcknowledged = true;
        }

        if (report.UnreferencedChunks.Count > 0) problems.Add($"VerifyAsync: {report.UnreferencedChunks.Count} unreferenced chunk(s) after recovery");
        if (report.ReferenceCountMismatches.Count > 0) problems.Add($"VerifyAsync: {report.ReferenceCountMismatches.Count} reference count mismatch(es)");
        var temp = Path.Combine(h.ChunkRoot, ".tmp");
        if (Directory.Exists(temp) && Directory.EnumerateFiles(temp).Any()) problems.Add("temporary files were left after recovery");

        // Chunk files the cut left without a commit are kept through the grace period, then collected.
        h.Time.PassGracePeriodOfFiles();
        await store.RunMaintenanceAsync();
        var later = await store.VerifyAsync();
        if (later.UnreferencedChunks.Count + later.OrphansWithinGracePeriod > 0) problems.Add($"after the grace period, {later.UnreferencedChunks.Count + later.OrphansWithinGracePeriod} orphan chunk file(s) remain");
        return problems;
    }

    /// <summary>The blob's content hash after reading it whole and checking it; null when absent; "error: …" when unreadable or wrong.</summary>
    internal static async Task<string?> ReadOrExceptionAsync(IBlobStore store, string name, string container = Container)
    {
        try
        {
            var properties = await store.GetPropertiesAsync(container, name);
            var bytes = await store.DownloadBytesAsync(container, name);
            var hash = Streams.Sha256(bytes);
            return hash == properties.ContentHash ? hash : $"error: bytes hash to {hash}, properties say {properties.ContentHash}";
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is BlobStorageException or IOException)
        {
            return $"error: {ex.GetType().Name}: {ex.Message}";
        }
    }

    internal sealed record Operation(string Kind, string Name, byte[]? Content = null, string? Source = null)
    {
        public (string Name, string? Hash)? Effect { get; init; }

        public override string ToString() => Kind switch
        {
            "upload" => CultureInvariant($"upload '{Name}' {Content!.Length} bytes {Effect?.Hash?[..8]}"),
            "copy" => $"copy '{Source}' to '{Name}'",
            _ => $"{Kind} '{Name}'",
        };
    }

    private static Operation NextOperation(Random rng, Dictionary<string, string?> acked, List<byte[]> contents)
    {
        var existing = acked.Where(p => p.Value is not null).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        var roll = rng.Next(100);
        if (roll < 12 && existing.Count > 0)
        {
            var name = existing[rng.Next(existing.Count)];
            return new Operation("delete", name) { Effect = (name, null) };
        }

        if (roll < 22 && existing.Count > 0)
        {
            var source = existing[rng.Next(existing.Count)];
            var destination = Names[rng.Next(Names.Length)];
            return new Operation("copy", destination, Source: source) { Effect = (destination, acked[source]) };
        }

        if (roll < 30) return new Operation("maintenance", "*");
        if (roll < 34) return new Operation("restart", "*");
        if (roll < 38 && existing.Count > 0) return new Operation("download", existing[rng.Next(existing.Count)]);

        var target = Names[rng.Next(Names.Length)];
        var content = NextContent(rng, contents);
        return new Operation("upload", target, content) { Effect = (target, Streams.Sha256(content)) };
    }

    private static byte[] NextContent(Random rng, List<byte[]> contents)
    {
        const int chunk = FaultyStore.ChunkSize;
        var roll = rng.Next(100);
        byte[] content;
        if (roll < 20 && contents.Count > 0)
        {
            // Identical content: every chunk is found stored already.
            return contents[rng.Next(contents.Count)];
        }

        var size = rng.Next(8) switch
        {
            0 => rng.Next(0, 200),
            1 => chunk - 1,
            2 => chunk,
            3 => chunk + 1,
            4 => 2 * chunk + rng.Next(chunk),
            5 => 3 * chunk + rng.Next(chunk),
            _ => rng.Next(1, 4 * chunk),
        };
        content = new byte[size];
        rng.NextBytes(content);
        if (roll < 35 && contents.Count > 0)
        {
            // Shares a leading chunk with an earlier content.
            var earlier = contents[rng.Next(contents.Count)];
            earlier.AsSpan(0, Math.Min(Math.Min(earlier.Length, chunk), size)).CopyTo(content);
        }

        contents.Add(content);
        return content;
    }

    private static async Task ExecuteAsync(FaultyStore h, Operation op, Dictionary<string, string?> acked)
    {
        var store = h.Store;
        switch (op.Kind)
        {
            case "upload":
                var properties = await store.UploadBytesAsync(Container, op.Name, op.Content!);
                if (properties.ContentHash != op.Effect!.Value.Hash) throw new InvalidOperationException($"Upload returned hash {properties.ContentHash}, expected {op.Effect.Value.Hash}.");
                break;
            case "delete":
                await store.DeleteAsync(Container, op.Name);
                break;
            case "copy":
                await store.CopyAsync(Container, op.Source!, Container, op.Name);
                break;
            case "maintenance":
                h.Time.Advance(TimeSpan.FromMinutes(16));
                await store.RunMaintenanceAsync();
                break;
            case "restart":
                // A clean restart: closing checkpoints the database, so everything so far is durable.
                await h.CloseAsync();
                await h.OpenOverFaultsAsync();
                h.MarkDatabaseDurable();
                break;
            case "download":
                var bytes = await store.DownloadBytesAsync(Container, op.Name);
                if (Streams.Sha256(bytes) != acked[op.Name]) throw new InvalidOperationException($"Download of '{op.Name}' returned wrong bytes before any power cut.");
                break;
            default:
                throw new InvalidOperationException(op.Kind);
        }
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}
