using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Tests.Load;

/// <summary>
/// Concurrency under load: writers, readers, listers, a deleter and maintenance on overlapping names
/// for a bounded time; create-only races; an optimistic counter; a database lock held by another
/// connection. Set <c>BLOBSTORAGE_SOAK_SECONDS</c> to run the mixed load for longer.
/// </summary>
public class LoadTests
{
    private const string Container = "load";
    private const int Chunk = BlobStorageOptions.MinChunkSize;
    private const int Writers = 8;
    private const int Readers = 8;
    private const int Listers = 2;
    private const int OwnNamesPerWriter = 3;
    private const int SharedNames = 12;

    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("BLOBSTORAGE_SOAK_SECONDS"), out var s) && s > 0 ? s : 30);

    [Test]
    [Category("Load")]
    public async Task Mixed_load_on_overlapping_names()
    {
        using var folder = new TempFolder("load");
        await using var store = await new BlobStoreBuilder(folder.Path)
            .Configure(o =>
            {
                o.ChunkSize = Chunk;
                o.GarbageCollectionGracePeriod = TimeSpan.FromSeconds(2);
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            })
            .OpenAsync();
        await store.CreateContainerAsync(Container);

        var state = new LoadState();
        var memory = new MemorySampler();
        using var stop = new CancellationTokenSource(Duration);
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task>();
        for (var w = 0; w < Writers; w++) tasks.Add(Worker(state, WriterLoop(store, state, w, stop.Token), stop.Token));
        for (var r = 0; r < Readers; r++) tasks.Add(Worker(state, ReaderLoop(store, state, r, stop.Token), stop.Token));
        for (var l = 0; l < Listers; l++) tasks.Add(Worker(state, ListerLoop(store, state, l, stop.Token), stop.Token));
        tasks.Add(Worker(state, DeleterLoop(store, state, stop.Token), stop.Token));
        tasks.Add(Worker(state, MaintenanceLoop(store, state, stop.Token), stop.Token));
        tasks.Add(memory.RunAsync(stop.Token));
        await Task.WhenAll(tasks);
        var elapsed = clock.Elapsed;

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await store.RunMaintenanceAsync();
        var report = await store.VerifyAsync(verifyContent: true);

        var total = state.Operations.Values.Sum();
        using var process = Process.GetCurrentProcess();
        TestContext.Out.WriteLine(
            $"Load: {total:N0} operations in {elapsed.TotalSeconds:F1} s = {total / elapsed.TotalSeconds:N0} ops/s " +
            $"({string.Join(", ", state.Operations.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value:N0}"))}); " +
            $"{state.BytesWritten / 1048576.0 / elapsed.TotalSeconds:F1} MiB/s written, {state.BytesRead / 1048576.0 / elapsed.TotalSeconds:F1} MiB/s read; " +
            $"expected exceptions: {string.Join(", ", state.Expected.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value:N0}"))}; " +
            $"peak working set during the load {memory.PeakWorkingSet / 1048576.0:F0} MiB (process peak {process.PeakWorkingSet64 / 1048576.0:F0} MiB), peak managed heap {memory.PeakManaged / 1048576.0:F0} MiB");

        state.Unexpected.Should().BeEmpty();
        state.Violations.Should().BeEmpty();
        report.IsClean.Should().BeTrue($"missing {report.MissingChunks.Count}, unreferenced {report.UnreferencedChunks.Count}, mismatched {report.ReferenceCountMismatches.Count}");
        state.Operations.GetValueOrDefault("read").Should().BeGreaterThan(0);
        state.Operations.GetValueOrDefault("write").Should().BeGreaterThan(0);
    }

    [Test]
    public async Task Sixteen_create_only_uploads_of_one_name_give_exactly_one_success()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        for (var round = 0; round < 10; round++)
        {
            var name = $"race-{round}";
            using var start = new Barrier(16);
            var contents = Enumerable.Range(0, 16).Select(i => Streams.Bytes(round % 2 == 0 ? 100 + i : Chunk + 100 + i, seed: (round * 16) + i)).ToArray();
            var attempts = contents.Select(content => Task.Run(async () =>
            {
                start.SignalAndWait();
                try
                {
                    return (Won: true, Properties: (BlobProperties?)await t.Store.UploadBytesAsync(Container, name, content, new BlobUploadOptions { Conditions = BlobRequestConditions.CreateOnly }));
                }
                catch (PreconditionFailedException)
                {
                    return (Won: false, Properties: (BlobProperties?)null);
                }
            })).ToArray();
            var results = await Task.WhenAll(attempts);

            results.Count(r => r.Won).Should().Be(1, $"round {round}: create-only lets exactly one upload of '{name}' through");
            var winner = results.Single(r => r.Won).Properties!;
            (await t.Store.GetPropertiesAsync(Container, name)).ETag.Should().Be(winner.ETag);
            Streams.Sha256(await t.Store.DownloadBytesAsync(Container, name)).Should().Be(winner.ContentHash);
        }

        t.Time.Advance(TimeSpan.FromMinutes(16));
        await t.Store.RunMaintenanceAsync();
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue("the losers' chunks are collected");
    }

    [Test]
    public async Task An_IfMatch_counter_updated_by_eight_tasks_counts_every_success()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "counter", Counter(0));
        const int perTask = 25;
        var conflicts = 0;
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var successes = 0;
            while (successes < perTask)
            {
                await using var download = await t.Store.DownloadAsync(Container, "counter");
                var value = BinaryPrimitives.ReadInt64LittleEndian(await Streams.ReadAllAsync(download.Content));
                try
                {
                    await t.Store.UploadBytesAsync(Container, "counter", Counter(value + 1), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = download.Properties.ETag } });
                    successes++;
                }
                catch (PreconditionFailedException)
                {
                    Interlocked.Increment(ref conflicts);
                }
            }

            return successes;
        })).ToArray();
        var total = (await Task.WhenAll(tasks)).Sum();

        var final = BinaryPrimitives.ReadInt64LittleEndian(await t.Store.DownloadBytesAsync(Container, "counter"));
        TestContext.Out.WriteLine($"IfMatch counter: {total} successes, {conflicts} conflicts, final value {final}");
        final.Should().Be(total);
    }

    [TestCase("BEGIN IMMEDIATE", TestName = "A write transaction held by another connection makes writes wait, then succeed")]
    [TestCase("BEGIN EXCLUSIVE", TestName = "An exclusive transaction held by another connection makes writes wait, then succeed")]
    public async Task A_held_transaction_makes_writes_wait_then_succeed(string begin)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var before = await t.Store.UploadBytesAsync(Container, "x", [1, 2, 3]);

        await using var other = await HoldAsync(Path.Combine(t.RootPath, "metadata.db"), begin);

        // On the thread pool: a call waiting for SQLite's lock blocks its thread (see the test below).
        var upload = Task.Run(() => t.Store.UploadBytesAsync(Container, "y", Streams.Bytes(Chunk + 10, seed: 1)));
        var delete = Task.Run(() => t.Store.DeleteAsync(Container, "x"));

        // Reads go on beside the writer (WAL).
        (await t.Store.GetPropertiesAsync(Container, "x")).ETag.Should().Be(before.ETag);
        (await t.Store.DownloadBytesAsync(Container, "x")).Should().Equal([1, 2, 3]);
        await Task.Delay(1000);
        upload.IsCompleted.Should().BeFalse($"the upload's commit waits for the other connection's lock ({upload.Exception?.InnerException})");
        delete.IsCompleted.Should().BeFalse($"the delete waits for the other connection's lock ({delete.Exception?.InnerException})");

        await other.ReleaseAsync();
        await upload.WaitAsync(TimeSpan.FromSeconds(30));
        await delete.WaitAsync(TimeSpan.FromSeconds(30));
        (await t.Store.DownloadBytesAsync(Container, "y")).Should().Equal(Streams.Bytes(Chunk + 10, seed: 1));
    }

    /// <summary>
    /// "Async all the way": a call that waits for a database lock returns its task at once and waits
    /// without a thread, not by blocking the caller for up to the busy timeout.
    /// </summary>
    [Test]
    public async Task A_call_waiting_for_the_database_lock_does_not_block_its_caller()
    {
        await using var t = await TestStore.OpenAsync(o => o.BusyTimeout = TimeSpan.FromSeconds(3));
        await t.Store.CreateContainerAsync(Container);
        await t.Store.UploadBytesAsync(Container, "x", [1, 2, 3]);
        await using var other = await HoldAsync(Path.Combine(t.RootPath, "metadata.db"), "BEGIN IMMEDIATE");

        var (task, returnedAfter) = await Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var call = t.Store.DeleteAsync(Container, "x");
            return (call, clock.Elapsed);
        });
        await other.ReleaseAsync();
        try
        {
            await task;
        }
        catch (BlobStorageException ex) when (ex.ErrorCode == BlobErrorCode.StoreBusy)
        {
            // The lock outlived the busy timeout while the caller was blocked; the outcome is not the point here.
        }

        returnedAfter.Should().BeLessThan(TimeSpan.FromSeconds(0.5), "DeleteAsync must hand back its task while it waits for SQLite's lock, not block the calling thread");
    }

    [Test]
    public async Task A_held_transaction_past_the_busy_timeout_is_a_typed_StoreBusy_error()
    {
        await using var t = await TestStore.OpenAsync(o => o.BusyTimeout = TimeSpan.FromSeconds(1));
        await t.Store.CreateContainerAsync(Container);
        var before = await t.Store.UploadBytesAsync(Container, "x", [1, 2, 3]);

        var outcomes = new List<string>();
        await using (var other = await HoldAsync(Path.Combine(t.RootPath, "metadata.db"), "BEGIN IMMEDIATE"))
        {
            var calls = new (string Name, Func<Task> Call)[]
            {
                ("upload", () => t.Store.UploadBytesAsync(Container, "x", Streams.Bytes(2 * Chunk, seed: 2))),
                ("delete", () => t.Store.DeleteAsync(Container, "x")),
                ("update metadata", () => t.Store.UpdateMetadataAsync(Container, "x", new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["k"] = "v" } })),
                ("copy", () => t.Store.CopyAsync(Container, "x", Container, "x2")),
                ("create container", () => t.Store.CreateContainerAsync("another")),
                ("start multipart", () => t.Store.StartMultipartUploadAsync(Container, "m")),
            };
            foreach (var (name, call) in calls)
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    await call();
                    outcomes.Add($"{name}: succeeded while the lock was held");
                }
                catch (BlobStorageException ex) when (ex.ErrorCode == BlobErrorCode.StoreBusy)
                {
                    clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(0.9), "the call waits for the busy timeout first");
                    clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
                    ex.Message.Should().Contain("busy timeout");
                }
                catch (Exception ex)
                {
                    outcomes.Add($"{name}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }

        outcomes.Should().BeEmpty("every write fails with StoreBusy, never a raw SQLite error, while another connection holds the lock");
        var after = await t.Store.GetPropertiesAsync(Container, "x");
        after.ETag.Should().Be(before.ETag, "a failed call changes nothing");
        (await t.Store.DownloadBytesAsync(Container, "x")).Should().Equal([1, 2, 3]);

        // Released: the store works, and the failed upload's chunks are collected.
        await t.Store.UploadBytesAsync(Container, "z", [4]);
        t.Time.Advance(TimeSpan.FromMinutes(16));
        await t.Store.RunMaintenanceAsync();
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    // ---- the mixed load ----

    private sealed class LoadState
    {
        /// <summary>Every content hash ever offered for a name (added before its upload starts), with its sequence.</summary>
        public ConcurrentDictionary<string, ConcurrentDictionary<string, long>> Written { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, long> Operations { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, long> Expected { get; } = new(StringComparer.Ordinal);

        public ConcurrentQueue<string> Unexpected { get; } = new();

        public ConcurrentQueue<string> Violations { get; } = new();

        public long BytesWritten;

        public long BytesRead;

        public void Count(string operation) => Operations.AddOrUpdate(operation, 1, (_, n) => n + 1);

        public void CountExpected(string what) => Expected.AddOrUpdate(what, 1, (_, n) => n + 1);

        public void Violation(string what)
        {
            if (Violations.Count < 50) Violations.Enqueue(what);
        }

        public ConcurrentDictionary<string, long> HashesOf(string name) => Written.GetOrAdd(name, _ => new ConcurrentDictionary<string, long>(StringComparer.Ordinal));
    }

    private static string OwnName(int writer, int k) => $"own/w{writer}/{k}";

    private static string SharedName(int k) => $"shared/{k:D2}";

    private static string AnyName(Random rng) =>
        rng.Next(2) == 0 ? OwnName(rng.Next(Writers), rng.Next(OwnNamesPerWriter)) : SharedName(rng.Next(SharedNames));

    /// <summary>Content that carries its writer and sequence in its first 16 bytes.</summary>
    private static byte[] Content(Random rng, int writer, long sequence)
    {
        var size = rng.Next(6) switch
        {
            0 => 16 + rng.Next(100),
            1 => Chunk,
            2 => Chunk + rng.Next(Chunk),
            3 => 2 * Chunk + rng.Next(Chunk),
            _ => 16 + rng.Next(4000),
        };
        var bytes = new byte[size];
        rng.NextBytes(bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes, writer);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), sequence);
        return bytes;
    }

    private static byte[] Counter(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>Runs a loop and records whatever escapes it as unexpected.</summary>
    private static async Task Worker(LoadState state, Task loop, CancellationToken stop)
    {
        try
        {
            await loop;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            state.Unexpected.Enqueue(ex.ToString());
        }
    }

    private static async Task WriterLoop(IBlobStore store, LoadState state, int writer, CancellationToken stop)
    {
        await Task.Yield();
        var rng = new Random(100 + writer);
        var sequences = new long[OwnNamesPerWriter];
        while (!stop.IsCancellationRequested)
        {
            var own = rng.Next(3) != 0;
            var name = own ? OwnName(writer, rng.Next(OwnNamesPerWriter)) : SharedName(rng.Next(SharedNames));
            var sequence = own ? ++sequences[int.Parse(name[^1..], System.Globalization.CultureInfo.InvariantCulture)] : 0;
            var content = Content(rng, writer, sequence);
            var hash = Streams.Sha256(content);
            state.HashesOf(name)[hash] = sequence;
            var conditional = !own && rng.Next(4) == 0;
            try
            {
                var properties = await store.UploadBytesAsync(Container, name, content, conditional ? new BlobUploadOptions { Conditions = BlobRequestConditions.CreateOnly } : null);
                if (properties.ContentHash != hash) state.Violation($"upload of '{name}' returned hash {properties.ContentHash}, expected {hash}");
                Interlocked.Add(ref state.BytesWritten, content.Length);
                state.Count("write");
            }
            catch (PreconditionFailedException) when (conditional)
            {
                state.CountExpected("PreconditionFailed (create-only)");
            }
            catch (Exception ex)
            {
                state.Unexpected.Enqueue($"writer {writer}, upload '{name}': {ex}");
            }
        }
    }

    private static async Task ReaderLoop(IBlobStore store, LoadState state, int reader, CancellationToken stop)
    {
        await Task.Yield();
        var rng = new Random(200 + reader);
        var lastSeen = new Dictionary<string, long>(StringComparer.Ordinal);
        while (!stop.IsCancellationRequested)
        {
            var name = AnyName(rng);
            try
            {
                if (rng.Next(4) == 0)
                {
                    // A ranged read of the header, pinned to the version the properties named.
                    var properties = await store.GetPropertiesAsync(Container, name, CancellationToken.None);
                    var header = await store.DownloadBytesAsync(Container, name, new BlobDownloadOptions { Range = new BlobRange(0, 16), Conditions = new BlobRequestConditions { IfMatch = properties.ETag } });
                    CheckOrder(state, lastSeen, reader, name, header);
                    if (!state.HashesOf(name).ContainsKey(properties.ContentHash)) state.Violation($"reader {reader}: '{name}' has content hash {properties.ContentHash}, never written");
                    Interlocked.Add(ref state.BytesRead, header.Length);
                }
                else
                {
                    await using var download = await store.DownloadAsync(Container, name, options: null, CancellationToken.None);
                    var bytes = await Streams.ReadAllAsync(download.Content);
                    var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
                    if (hash != download.Properties.ContentHash) state.Violation($"reader {reader}: '{name}' read bytes hashing to {hash}, its properties say {download.Properties.ContentHash}");
                    if (!state.HashesOf(name).ContainsKey(hash)) state.Violation($"reader {reader}: '{name}' read content {hash} that was never written to it");
                    CheckOrder(state, lastSeen, reader, name, bytes);
                    Interlocked.Add(ref state.BytesRead, bytes.Length);
                }

                state.Count("read");
            }
            catch (BlobNotFoundException)
            {
                state.CountExpected("BlobNotFound");
            }
            catch (PreconditionFailedException)
            {
                state.CountExpected("PreconditionFailed (overwritten between properties and read)");
            }
            catch (Exception ex)
            {
                state.Unexpected.Enqueue($"reader {reader}, read '{name}': {ex}");
            }
        }
    }

    /// <summary>A name with one writer: its sequence, read by one reader, never goes back.</summary>
    private static void CheckOrder(LoadState state, Dictionary<string, long> lastSeen, int reader, string name, byte[] bytes)
    {
        if (!name.StartsWith("own/", StringComparison.Ordinal) || bytes.Length < 16) return;
        var sequence = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
        if (sequence < lastSeen.GetValueOrDefault(name))
        {
            state.Violation($"reader {reader}: '{name}' went back from sequence {lastSeen[name]} to {sequence}");
        }

        lastSeen[name] = Math.Max(sequence, lastSeen.GetValueOrDefault(name));
    }

    private static async Task ListerLoop(IBlobStore store, LoadState state, int lister, CancellationToken stop)
    {
        await Task.Yield();
        var rng = new Random(300 + lister);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var prefix = rng.Next(3) switch { 0 => null, 1 => "own/", _ => "shared/" };
                var names = new List<string>();
                string? token = null;
                do
                {
                    var page = await store.ListAsync(Container, new BlobListOptions { Prefix = prefix, PageSize = rng.Next(1, 20), ContinuationToken = token }, CancellationToken.None);
                    foreach (var blob in page.Blobs)
                    {
                        names.Add(blob.Name);
                        if (!state.HashesOf(blob.Name).ContainsKey(blob.ContentHash)) state.Violation($"lister {lister}: '{blob.Name}' listed with content hash {blob.ContentHash}, never written");
                    }

                    token = page.ContinuationToken;
                }
                while (token is not null);

                for (var i = 1; i < names.Count; i++)
                {
                    if (string.CompareOrdinal(names[i - 1], names[i]) >= 0) state.Violation($"lister {lister}: '{names[i - 1]}' listed before '{names[i]}'");
                }

                if (prefix is not null && names.Any(n => !n.StartsWith(prefix, StringComparison.Ordinal))) state.Violation($"lister {lister}: a name outside prefix '{prefix}'");
                state.Count("list");
            }
            catch (Exception ex)
            {
                state.Unexpected.Enqueue($"lister {lister}: {ex}");
            }
        }
    }

    private static async Task DeleterLoop(IBlobStore store, LoadState state, CancellationToken stop)
    {
        await Task.Yield();
        var rng = new Random(400);
        while (!stop.IsCancellationRequested)
        {
            var name = SharedName(rng.Next(SharedNames));
            try
            {
                await store.DeleteAsync(Container, name, conditions: null, CancellationToken.None);
                state.Count("delete");
            }
            catch (BlobNotFoundException)
            {
                state.CountExpected("BlobNotFound (delete)");
            }
            catch (Exception ex)
            {
                state.Unexpected.Enqueue($"deleter, '{name}': {ex}");
            }

            await Task.Delay(rng.Next(1, 20), CancellationToken.None);
        }
    }

    private static async Task MaintenanceLoop(IBlobStore store, LoadState state, CancellationToken stop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var report = await store.RunMaintenanceAsync(CancellationToken.None);
                state.Count("maintenance");
                state.Operations.AddOrUpdate("chunks collected", report.ChunksCollected, (_, n) => n + report.ChunksCollected);
            }
            catch (Exception ex)
            {
                state.Unexpected.Enqueue($"maintenance: {ex}");
            }

            await Task.Delay(200, CancellationToken.None);
        }
    }

    /// <summary>Samples the managed heap and the working set while the load runs (the process's own peak covers every earlier test too).</summary>
    private sealed class MemorySampler
    {
        public long PeakManaged { get; private set; }

        public long PeakWorkingSet { get; private set; }

        public async Task RunAsync(CancellationToken stop)
        {
            using var process = Process.GetCurrentProcess();
            while (!stop.IsCancellationRequested)
            {
                PeakManaged = Math.Max(PeakManaged, GC.GetTotalMemory(forceFullCollection: false));
                process.Refresh();
                PeakWorkingSet = Math.Max(PeakWorkingSet, process.WorkingSet64);
                try
                {
                    await Task.Delay(100, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    // ---- another connection holding the database lock ----

    private static async Task<HeldLock> HoldAsync(string database, string begin)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = begin + "; UPDATE stats SET reads = reads WHERE id = 1;";
            await command.ExecuteNonQueryAsync();
        }

        return new HeldLock(connection);
    }

    private sealed class HeldLock(SqliteConnection connection) : IAsyncDisposable
    {
        private bool _released;

        public async Task ReleaseAsync()
        {
            if (_released) return;
            _released = true;
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "ROLLBACK;";
                await command.ExecuteNonQueryAsync();
            }

            await connection.DisposeAsync();
        }

        public async ValueTask DisposeAsync() => await ReleaseAsync();
    }
}
