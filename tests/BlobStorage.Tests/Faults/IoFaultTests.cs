using System.Diagnostics;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Faults;

/// <summary>
/// Sweeps an injected I/O failure over every file operation of a small workload, once and from then
/// on, and over every operation of each kind (disk full on creates and writes, errors on flushes,
/// renames, directory flushes, deletes, opens and reads). Every call completes or throws a
/// <see cref="BlobStorageException"/> (never a raw I/O exception); a failed call changes nothing;
/// an upload during which a fault fired never succeeds; once the fault is lifted the store works,
/// holds exactly what was acknowledged, leaks no reference and no file handle.
/// </summary>
public class IoFaultTests
{
    private const string Container = "faults";
    private const int Chunk = FaultyStore.ChunkSize;
    private static readonly byte[] Keep = Streams.Bytes(2 * Chunk + Chunk / 2, seed: 1);
    private static readonly byte[] A1 = Streams.Bytes(3 * Chunk + 100, seed: 2);
    private static readonly byte[] B = Streams.Bytes(1000, seed: 3);
    private static readonly byte[] A2 = [.. A1.AsSpan(0, Chunk), .. Streams.Bytes(Chunk + 50, seed: 4)];
    private static readonly byte[] Part1 = Streams.Bytes(Chunk, seed: 5);
    private static readonly byte[] Part2 = Streams.Bytes(1000, seed: 6);
    private static readonly byte[] After = Streams.Bytes(Chunk + 7, seed: 7);

    private static void Configure(BlobStorageOptions o)
    {
        o.MultipartMinimumPartSize = Chunk;
        PowerLossTests.SqliteUnsynced(o);
    }

    [Test]
    public async Task Workload_without_faults_passes_the_checks()
    {
        using var folder = new TempFolder("iofault");
        var run = await RunAsync(folder, arm: null);
        run.Problems.Should().BeEmpty();
        TestContext.Out.WriteLine($"The workload makes {run.Operations} failable file operations: {string.Join(", ", run.Counts.Select(c => $"{c.Key} {c.Value}"))}");
    }

    [Test]
    public async Task A_fault_at_every_operation_once_and_from_then_on()
    {
        using var folder = new TempFolder("iofault");
        var counting = await RunAsync(folder, arm: null);
        counting.Problems.Should().BeEmpty();
        var clock = Stopwatch.StartNew();
        var summary = new Summary();
        for (var n = 1; n <= counting.Operations; n++)
        {
            foreach (var persistent in new[] { false, true })
            {
                var at = n;
                summary.Add(await RunAsync(folder, fs => fs.FailAt(at, persistent: persistent)), $"operation {n}, {(persistent ? "from then on" : "once")}");
            }
        }

        TestContext.Out.WriteLine($"Sweep over {counting.Operations} operations x (once, from then on): {summary} in {clock.Elapsed.TotalSeconds:F1} s");
        summary.Report();
        summary.Failures.Should().BeEmpty();
    }

    [Test]
    public async Task A_fault_at_every_operation_of_each_kind()
    {
        using var folder = new TempFolder("iofault");
        var counting = await RunAsync(folder, arm: null);
        var clock = Stopwatch.StartNew();
        var summary = new Summary();
        // The sweep over every operation covers each kind with EIO, in whatever order the chunk writes
        // interleave; this one hits each occurrence of a kind for sure, and disk full where it happens.
        (FileOp Kind, FaultFlavor Flavor)[] plans =
        [
            (FileOp.Create, FaultFlavor.DiskFull),
            (FileOp.Write, FaultFlavor.DiskFull),
            (FileOp.Flush, FaultFlavor.IOError),
            (FileOp.Rename, FaultFlavor.IOError),
            (FileOp.FlushDirectory, FaultFlavor.IOError),
            (FileOp.Delete, FaultFlavor.IOError),
        ];
        foreach (var (kind, flavor) in plans)
        {
            for (var n = 1; n <= counting.Counts.GetValueOrDefault(kind); n++)
            {
                var at = n;
                summary.Add(await RunAsync(folder, fs => fs.FailAt(at, kind, flavor: flavor)), $"{kind} {n} once ({flavor})");
            }
        }

        TestContext.Out.WriteLine($"Sweep by kind: {summary} in {clock.Elapsed.TotalSeconds:F1} s");
        summary.Report();
        summary.Failures.Should().BeEmpty();
    }

    /// <summary>A scrub on a failing disk fails, or reports what it could not read as unreadable, never as missing or changed.</summary>
    [Test]
    public async Task Verify_on_a_failing_disk()
    {
        using var folder = new TempFolder("iofault");
        var summary = new Summary();
        foreach (var (kind, n) in new[] { (FileOp.Enumerate, 1), (FileOp.Enumerate, 128), (FileOp.Enumerate, 256), (FileOp.Open, 1), (FileOp.Read, 2) })
        {
            foreach (var persistent in new[] { false, true })
            {
                // The fault is armed after the workload's own file operations, so it lands in the verification.
                summary.Add(await RunAsync(folder, fs => fs.BeforeOperation = null, withVerify: true, armBeforeVerify: fs => fs.FailAt(n, kind, persistent)), $"{kind} {n} in verify, {(persistent ? "from then on" : "once")}");
            }
        }

        TestContext.Out.WriteLine($"Verify under faults: {summary}");
        summary.Report();
        summary.Failures.Should().BeEmpty();
    }

    /// <summary>After a failed fsync the kernel may report the next one as a success: the store must not retry into one.</summary>
    [Test]
    public async Task A_failed_flush_fails_the_upload_and_loses_nothing_acknowledged()
    {
        using var folder = new TempFolder("iofault");
        for (var n = 1; n <= 4; n++)
        {
            await using var h = await FaultyStore.OpenAsync(Configure, reuse: folder);
            await h.Store.CreateContainerAsync(Container);
            h.Files.FailAt(n, FileOp.Flush);
            var upload = () => h.Store.UploadBytesAsync(Container, "a", A1);
            (await upload.Should().ThrowAsync<BlobStorageException>($"the flush of chunk {n} of 4 failed"))
                .Where(e => e.ErrorCode == BlobErrorCode.IOError && e.InnerException is InjectedIOException);
            h.Files.FaultsInjected.Should().Be(1);

            // Whatever the store does next with the same bytes, what it acknowledges survives a power cut.
            var retried = await h.Store.UploadBytesAsync(Container, "a", A1);
            h.Files.PowerCut(new Random(n), new PowerCutOptions { TornWriteProbability = 0 });
            await h.ReopenOnPlainDiskAsync();
            (await PowerLossTests.ReadOrExceptionAsync(h.Store, "a", Container)).Should().Be(retried.ContentHash);
        }
    }

    /// <summary>Opening fails cleanly on a failing disk and succeeds once it is healthy.</summary>
    [Test]
    public async Task Opening_on_a_failing_disk_throws_and_a_later_open_succeeds()
    {
        await using var h = await FaultyStore.OpenAsync(Configure);
        await h.Store.CreateContainerAsync(Container);
        await h.Store.UploadBytesAsync(Container, "keep", Keep);
        await h.CloseAsync();

        // Opening makes folders, removes temporary files a crash left (one is planted), and scans the
        // shards for orphans: a fault in each must fail the open cleanly, and the next open must work.
        foreach (var (kind, n) in new[] { (FileOp.CreateDirectory, 1), (FileOp.Enumerate, 2), (FileOp.Enumerate, 200), (FileOp.Delete, 1), (FileOp.Enumerate, 1) })
        {
            await File.WriteAllBytesAsync(Path.Combine(h.ChunkRoot, ".tmp", "leftover"), [1, 2, 3]);
            h.Files.FailAt(n, kind, persistent: true);
            try
            {
                await h.OpenOverFaultsAsync();
                await h.CloseAsync();
            }
            catch (Exception ex)
            {
                ex.Should().BeAssignableTo<BlobStorageException>($"opening with {kind} {n} failing threw {ex}");
            }

            h.Files.ClearFaults();
            h.Files.OpenHandles.Should().Be(0);
            var reopen = () => h.OpenOverFaultsAsync();
            await reopen.Should().NotThrowAsync($"the disk is healthy again after {kind} {n} failed an open");
            (await h.Store.DownloadBytesAsync(Container, "keep")).Should().Equal(Keep);
            (await h.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
            await h.CloseAsync();
        }
    }

    private sealed class Summary
    {
        private readonly Dictionary<string, int> _outcomes = new(StringComparer.Ordinal);
        private int _runs;
        private long _injected;

        public List<string> Failures { get; } = [];

        public void Add(Run run, string what)
        {
            _runs++;
            _injected += run.FaultsInjected;
            foreach (var outcome in run.Outcomes) _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
            if (run.Problems.Count > 0) Failures.Add($"{what}: {string.Join("; ", run.Problems)}");
        }

        public void Report()
        {
            foreach (var failure in Failures) TestContext.Out.WriteLine("FAILED " + failure);
        }

        public override string ToString() =>
            $"{_runs} runs, {_injected} faults injected, call outcomes: {string.Join(", ", _outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}"))}";
    }

    private sealed class Run
    {
        public long Operations { get; set; }

        public IReadOnlyDictionary<FileOp, long> Counts { get; set; } = new Dictionary<FileOp, long>();

        public long FaultsInjected { get; set; }

        public List<string> Outcomes { get; } = [];

        public List<string> Problems { get; } = [];
    }

    /// <summary>What the test expects of a name: null when absent.</summary>
    private sealed record Expected(string ETag, byte[] Content);

    /// <summary>One run: a fresh store, the workload with the fault armed, the checks with it lifted.</summary>
    /// <param name="folder">The folder to make the store in (emptied first).</param>
    /// <param name="arm">Arms the fault, after the setup and before the workload.</param>
    /// <param name="withVerify">End the workload with a content verification, which enumerates all 256 shard folders.</param>
    /// <param name="armBeforeVerify">Arms a fault just before the verification step.</param>
    private static async Task<Run> RunAsync(TempFolder folder, Action<FaultyFileSystem>? arm, bool withVerify = false, Action<FaultyFileSystem>? armBeforeVerify = null)
    {
        var run = new Run();
        await using var h = await FaultyStore.OpenAsync(Configure, reuse: folder);
        var store = h.Store;
        await store.CreateContainerAsync(Container);
        var model = new Dictionary<string, Expected?>(StringComparer.Ordinal)
        {
            ["keep"] = new((await store.UploadBytesAsync(Container, "keep", Keep)).ETag, Keep),
        };
        h.Files.ResetCounts();
        arm?.Invoke(h.Files);

        async Task StepAsync(string name, string? target, Func<Task<Expected?>> action, bool mustFailOnFault)
        {
            var before = target is null ? null : await PropertiesAsync(store, target);
            var faultsBefore = h.Files.FaultsInjected;
            try
            {
                var result = await action();
                run.Outcomes.Add("ok");
                if (target is not null) model[target] = result;
                if (mustFailOnFault && h.Files.FaultsInjected > faultsBefore)
                {
                    run.Problems.Add($"{name} succeeded although a fault fired during it");
                }
            }
            catch (BlobStorageException ex)
            {
                run.Outcomes.Add($"{ex.GetType().Name}({ex.ErrorCode})");
                if ((ex.ErrorCode is BlobErrorCode.IOError or BlobErrorCode.InsufficientStorage or BlobErrorCode.AccessDenied) && ex.InnerException is not (IOException or UnauthorizedAccessException))
                {
                    run.Problems.Add($"{name} failed with {ex.ErrorCode} but without the I/O error as its inner exception: {ex}");
                }

                if (h.Files.FaultsInjected == faultsBefore) run.Problems.Add($"{name} failed with no fault injected during it: {ex.Message}");
                if (target is not null)
                {
                    var after = await PropertiesAsync(store, target);
                    if (after != before) run.Problems.Add($"{name} failed ({ex.GetType().Name}) but changed '{target}': {before ?? "(absent)"} -> {after ?? "(absent)"}");
                }
            }
            catch (Exception ex)
            {
                run.Outcomes.Add(ex.GetType().Name);
                run.Problems.Add($"{name} threw {ex.GetType().Name}, not a BlobStorageException: every failure, I/O included, leaves the store typed: {ex}");
            }
        }

        await StepAsync("upload a (4 chunks)", "a", async () => new((await store.UploadBytesAsync(Container, "a", A1)).ETag, A1), mustFailOnFault: true);
        await StepAsync("upload b (1 chunk)", "b", async () => new((await store.UploadBytesAsync(Container, "b", B)).ETag, B), mustFailOnFault: true);
        await StepAsync("download keep", null, async () =>
        {
            var bytes = await store.DownloadBytesAsync(Container, "keep");
            if (!bytes.AsSpan().SequenceEqual(Keep)) run.Problems.Add("download of keep returned wrong bytes");
            return null;
        }, mustFailOnFault: false);
        await StepAsync("overwrite a (shares a chunk)", "a", async () => new((await store.UploadBytesAsync(Container, "a", A2)).ETag, A2), mustFailOnFault: true);
        await StepAsync("ranged download of a", null, async () =>
        {
            var expected = model.GetValueOrDefault("a")?.Content;
            if (expected is null) return null;
            var bytes = await store.DownloadBytesAsync(Container, "a", new BlobDownloadOptions { Range = new BlobRange(Chunk - 10, 20) });
            if (!bytes.AsSpan().SequenceEqual(expected.AsSpan(Chunk - 10, 20))) run.Problems.Add("ranged download of a returned wrong bytes");
            return null;
        }, mustFailOnFault: false);
        if (model.GetValueOrDefault("b") is not null)
        {
            await StepAsync("delete b", "b", async () =>
            {
                await store.DeleteAsync(Container, "b");
                return null;
            }, mustFailOnFault: false);
        }

        h.Time.Advance(TimeSpan.FromMinutes(16));
        await StepAsync("maintenance", null, async () =>
        {
            await store.RunMaintenanceAsync();
            return null;
        }, mustFailOnFault: false);
        await StepAsync("upload c (same bytes as keep)", "c", async () => new((await store.UploadBytesAsync(Container, "c", Keep)).ETag, Keep), mustFailOnFault: true);
        await StepAsync("multipart m", "m", async () =>
        {
            var id = await store.StartMultipartUploadAsync(Container, "m");
            var p1 = await store.UploadPartAsync(id, 1, new MemoryStream(Part1));
            var p2 = await store.UploadPartAsync(id, 2, new MemoryStream(Part2));
            var done = await store.CompleteMultipartUploadAsync(id, [new CompletedPart(1, p1.ETag), new CompletedPart(2, p2.ETag)]);
            return new(done.ETag, [.. Part1, .. Part2]);
        }, mustFailOnFault: true);
        if (withVerify)
        {
            armBeforeVerify?.Invoke(h.Files);
            await StepAsync("verify", null, async () =>
            {
                // A chunk the injected error kept from being read is reported, as unreadable, with the error; never as missing or changed.
                var report = await store.VerifyAsync(verifyContent: true);
                var wrong = report.MissingChunks.Where(m => !m.Reason.Contains("injected", StringComparison.Ordinal) || m.Reason.Contains("is missing", StringComparison.Ordinal) || m.Reason.Contains("checksum", StringComparison.Ordinal)).ToList();
                if (wrong.Count > 0) run.Problems.Add($"verify under faults reported healthy chunks as damaged: {string.Join("; ", wrong.Select(m => m.Reason))}");
                return null;
            }, mustFailOnFault: false);
        }

        run.Operations = h.Files.FailableOperations;
        run.Counts = h.Files.Counts;
        run.FaultsInjected = h.Files.FaultsInjected;

        // The fault is lifted: the store must work and hold exactly what was acknowledged.
        h.Files.ClearFaults();
        try
        {
            await CheckAfterFaultAsync(h, model, run);
        }
        catch (Exception ex)
        {
            run.Problems.Add($"after the fault was lifted: {ex}");
        }

        return run;
    }

    private static async Task CheckAfterFaultAsync(FaultyStore h, Dictionary<string, Expected?> model, Run run)
    {
        var store = h.Store;
        for (var i = 0; i < 200 && h.Files.OpenHandles > 0; i++) await Task.Delay(10);
        if (h.Files.OpenHandles > 0) run.Problems.Add($"{h.Files.OpenHandles} file handle(s) still open after every call returned");

        foreach (var (name, expected) in model)
        {
            var properties = await PropertiesAsync(store, name);
            if (properties != expected?.ETag)
            {
                run.Problems.Add($"'{name}' has ETag {properties ?? "(absent)"}, acknowledged {expected?.ETag ?? "(absent)"}");
                continue;
            }

            if (expected is null) continue;
            var bytes = await store.DownloadBytesAsync(Container, name);
            if (!bytes.AsSpan().SequenceEqual(expected.Content)) run.Problems.Add($"'{name}' reads back different bytes from those acknowledged");
        }

        await store.UploadBytesAsync(Container, "after", After);
        (await store.DownloadBytesAsync(Container, "after")).Should().Equal(After);

        h.Time.Advance(TimeSpan.FromMinutes(16));
        await store.RunMaintenanceAsync();
        var report = await store.VerifyAsync(verifyContent: true);
        if (report.MissingChunks.Count > 0) run.Problems.Add($"missing chunks: {string.Join("; ", report.MissingChunks.Select(m => $"{m.Name}: {m.Reason}"))}");
        if (report.UnreferencedChunks.Count > 0) run.Problems.Add($"{report.UnreferencedChunks.Count} unreferenced chunk file(s) left after maintenance (a leak)");
        if (report.ReferenceCountMismatches.Count > 0) run.Problems.Add($"{report.ReferenceCountMismatches.Count} reference count mismatch(es)");
        if (report.ChunksAwaitingCollection > 0) run.Problems.Add($"{report.ChunksAwaitingCollection} chunk(s) still awaiting collection after a pass past the grace period");

        await h.CloseAsync();
        if (h.Files.OpenHandles > 0) run.Problems.Add($"{h.Files.OpenHandles} file handle(s) open after the store closed");
    }

    private static async Task<string?> PropertiesAsync(IBlobStore store, string name)
    {
        try
        {
            return (await store.GetPropertiesAsync(Container, name)).ETag;
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }
}
