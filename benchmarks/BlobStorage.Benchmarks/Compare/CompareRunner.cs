using System.Diagnostics;
using System.Globalization;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// Runs every selected cell of every selected peer, run after run. Each run opens every peer in a
/// fresh folder of its own; then the peers take turns: the listing, then each size (put, get,
/// get-raw and delete at each number of tasks). Only one peer works at a time, so each has the
/// disk, the page cache and both cores to itself; after the last size a peer is closed and its
/// folder removed.
/// </summary>
internal sealed class CompareRunner(CompareOptions options, WorkingSetMonitor monitor, TextWriter log)
{
    private const int ListBlobSize = 1024;
    private const int BlobsPerPrefix = 100;
    private const int MinListOperations = 20;

    // The range cell reads 1-byte ranges of the large blobs only, where reading the whole blob would cost the most.
    private const long RangeMinimumSize = 64L * 1024 * 1024;

    private readonly ExpectedHashes _hashes = new();
    private byte[]? _probeHash;
    private readonly List<CellResult> _cells = [];
    private readonly Dictionary<(string Peer, string Op, string Size, int Tasks), CellResult> _byKey = [];

    /// <summary>Every cell in the order it was first measured.</summary>
    public IReadOnlyList<CellResult> Cells => _cells;

    /// <summary>Failures outside any cell (a peer that did not open), one line each.</summary>
    public List<string> Failures { get; } = [];

    /// <summary>Per peer, the fresh-process working-set probe of each run (<see cref="WorkingSetProbe"/>).</summary>
    public Dictionary<string, List<ProbeResult>> Probes { get; } = new(StringComparer.Ordinal);

    /// <summary>Each peer that opened: whether its puts are durable, and how.</summary>
    public Dictionary<string, (bool Durable, string Description)> Peers { get; } = new(StringComparer.Ordinal);

    public async Task RunAsync(string work, CancellationToken cancellationToken)
    {
        for (var run = 1; run <= options.Runs; run++)
        {
            var open = new List<(IPeerStore Store, string Folder)>();
            try
            {
                foreach (var peerName in options.Peers)
                {
                    var folder = Path.Combine(work, $"run{run}-{peerName.Replace('+', '-')}");
                    try
                    {
                        var store = await PeerCatalog.OpenAsync(peerName, folder, cancellationToken);
                        Peers[store.Name] = (store.Durable, store.Description);
                        open.Add((store, folder));
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Fail(run, peerName, "open", e);
                        DeleteFolder(folder);
                    }
                }

                // Peers take turns cell group by cell group, so that the machine's drift over a
                // run (other work, the disk's own state) falls on every peer alike; each group is
                // one peer's puts, gets and deletes at one size, which then leave the page cache
                // to the next peer.
                if (options.Has("list"))
                {
                    foreach (var (store, _) in open.Where(o => o.Store.SmallestSize <= ListBlobSize))
                    {
                        await GuardAsync(run, store, "list", () => RunListAsync(store, run, cancellationToken));
                    }
                }

                foreach (var size in options.Sizes)
                {
                    var last = size == options.Sizes[^1];
                    foreach (var (store, folder) in open.ToArray())
                    {
                        if (size.Bytes >= store.SmallestSize)
                        {
                            await GuardAsync(run, store, size.Display, () => RunSizeAsync(store, folder, size, run, cleanUp: !last, cancellationToken));
                        }

                        if (last)
                        {
                            // Done with this peer: its folder goes before the next peer fills the disk.
                            await CloseAsync(store, folder);
                            open.Remove((store, folder));
                        }
                    }
                }
            }
            finally
            {
                foreach (var (store, folder) in open)
                {
                    await CloseAsync(store, folder);
                }
            }

            if (options.Has("put") || options.Has("get") || options.Has("get-first"))
            {
                await ProbeWorkingSetsAsync(work, run, cancellationToken);
            }

            SetRatios(run);
        }

        foreach (var cell in _cells)
        {
            cell.Summarize();
        }
    }

    /// <summary>Every cell of one peer at one size: put, get and get-raw at each number of tasks, one delete cell, and put-dup at 64 MiB.</summary>
    private async Task RunSizeAsync(IPeerStore store, string folder, SizeSpec size, int run, bool cleanUp, CancellationToken cancellationToken)
    {
        var sizeIndex = Array.IndexOf(SizeSpec.Labels, size.Label);
        var leftovers = new List<string>();
        if (options.Has("put") || options.Has("get-first") || options.Has("get") || options.Has("get-raw") || options.Has("range") || options.Has("delete"))
        {
            var deleteMeasured = false;
            foreach (var tasks in options.Tasks)
            {
                deleteMeasured |= await RunTasksAsync(store, size, sizeIndex, tasks, run, measureDelete: !deleteMeasured, leftovers, cancellationToken);
            }
        }

        // Keeps the disk bounded; after the last size, removing the peer's folder is enough.
        if (cleanUp)
        {
            await DeleteQuietlyAsync(store, leftovers, cancellationToken);
        }

        if (options.Has("put-dup") && size.Label == "64m")
        {
            await RunPutDuplicateAsync(store, folder, size, sizeIndex, run, cancellationToken);
        }
    }

    /// <summary>After the run's peers are closed: each peer's puts and gets of each size again, in a fresh process (<see cref="WorkingSetProbe"/>).</summary>
    private async Task ProbeWorkingSetsAsync(string work, int run, CancellationToken cancellationToken)
    {
        foreach (var size in options.Sizes)
        {
            foreach (var peer in options.Peers)
            {
                await ProbeWorkingSetAsync(work, run, size, peer, cancellationToken);
            }
        }
    }

    /// <summary>One peer's puts and gets of one size in a fresh process; the 1 GiB probe's expected hash is computed once for all.</summary>
    private async Task ProbeWorkingSetAsync(string work, int run, SizeSpec size, string peer, CancellationToken cancellationToken)
    {
        var expectedHash = size.Bytes == WorkingSetProbe.LargeSize ? _probeHash ??= WorkingSetProbe.ExpectedHash() : null;
        var folder = Path.Combine(work, $"run{run}-probe-{peer.Replace('+', '-')}-{size.Label}");
        try
        {
            var result = await WorkingSetProbe.MeasureAsync(peer, folder, size, expectedHash, cancellationToken);
            result.Run = run;
            if (!Probes.TryGetValue(peer, out var list))
            {
                Probes[peer] = list = [];
            }

            list.Add(result);
            log.WriteLine(result.Error is not null
                ? $"[run {run}/{options.Runs}] {peer,-17} {size.Display} in a fresh process: FAILED {result.Error}"
                : string.Create(CultureInfo.InvariantCulture,
                    $"[run {run}/{options.Runs}] {peer,-17} {size.Display} in a fresh process: put peak WS {result.PutPeakWorkingSet / 1e6:F1} MB (from {result.PutStartWorkingSet / 1e6:F1}) in {result.PutSeconds:F2} s, get peak WS {result.GetPeakWorkingSet / 1e6:F1} MB (from {result.GetStartWorkingSet / 1e6:F1}) in {result.GetSeconds:F2} s"));
        }
        finally
        {
            DeleteFolder(folder);
        }
    }

    // Outside a cell (a warm-up, a cleanup), a failure loses this peer's size, not the others'.
    private async Task GuardAsync(int run, IPeerStore store, string what, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Fail(run, store.Name, what, e);
        }
    }

    private async Task CloseAsync(IPeerStore store, string folder)
    {
        try
        {
            await store.DisposeAsync();
        }
        finally
        {
            DeleteFolder(folder);
        }
    }

    private void Fail(int run, string peer, string what, Exception e)
    {
        Failures.Add($"run {run}, {peer}, {what}: {e.GetType().Name}: {e.Message}");
        log.WriteLine($"[run {run}/{options.Runs}] {peer} {what} failed: {e}");
    }

    /// <summary>Put, get, get-raw and (once per size) delete at one size and number of tasks. Returns whether it measured the delete.</summary>
    private async Task<bool> RunTasksAsync(
        IPeerStore store, SizeSpec size, int sizeIndex, int tasks, int run, bool measureDelete, List<string> leftovers, CancellationToken cancellationToken)
    {
        var count = size.PutCountFor(tasks);
        var names = new string[count];
        var seeds = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            // A two-hex-digit segment from a hash of the blob's number: 256 folders per cell, as a
            // hand-written store shards its files (the file store maps name segments to folders).
            var shard = (uint)i * 2654435761u >> 24;
            names[i] = string.Create(CultureInfo.InvariantCulture, $"data/{size.Label}/t{tasks}/{shard:x2}/{i:D6}");
            seeds[i] = Seed(kind: 1, sizeIndex, tasks, i);
        }

        var warmNames = Enumerable.Range(0, size.WarmUpCount).Select(i => string.Create(CultureInfo.InvariantCulture, $"warm/{size.Label}/t{tasks}/{i}")).ToArray();
        var warmSeeds = Enumerable.Range(0, size.WarmUpCount).Select(i => Seed(kind: 2, sizeIndex, tasks, i)).ToArray();
        _hashes.Prepare(size.Bytes, seeds.Concat(warmSeeds), cancellationToken);

        // Untimed first use of every path, so that no cell pays for JIT compilation or opening connections.
        leftovers.AddRange(warmNames);
        for (var i = 0; i < warmNames.Length; i++)
        {
            using (var content = new GeneratedStream(size.Bytes, warmSeeds[i]))
            {
                await store.PutAsync(warmNames[i], content, cancellationToken);
            }

            using var sink = new VerifyingSink(hashing: true);
            await store.GetAsync(warmNames[i], sink, cancellationToken);
            sink.Verify(warmNames[i], _hashes[size.Bytes, warmSeeds[i]], size.Bytes);
        }

        leftovers.AddRange(names);
        var put = await MeasureAsync(tasks, count, count, TimeSpan.Zero, size.Bytes, sink: null, async (i, _, token) =>
        {
            using var content = new GeneratedStream(size.Bytes, seeds[i]);
            await store.PutAsync(names[i], content, token);
        }, cancellationToken);
        if (options.Has("put") || put.Error is not null)
        {
            Record(store, "put", size.Label, size.Display, size.Bytes, tasks, put, run);
        }

        if (put.Error is not null)
        {
            return false;
        }

        if (options.Has("get-first"))
        {
            // One pass, each blob read once, before any other read of them: the first read after the puts.
            var first = await MeasureAsync(tasks, count, count, TimeSpan.Zero, size.Bytes, sink: false, async (i, sink, token) =>
            {
                await store.GetAsync(names[i], sink!, token);
                sink!.Verify(names[i], _hashes[size.Bytes, seeds[i]], size.Bytes);
            }, cancellationToken);
            Record(store, "get-first", size.Label, size.Display, size.Bytes, tasks, first, run);
        }

        foreach (var (op, hashing) in new[] { ("get", true), ("get-raw", false) })
        {
            if (!options.Has(op))
            {
                continue;
            }

            // Passes over the blobs just put, for at least the cell's duration.
            var get = await MeasureAsync(tasks, count, long.MaxValue, options.CellDuration, size.Bytes, sink: hashing, async (i, sink, token) =>
            {
                var k = (int)(i % count);
                await store.GetAsync(names[k], sink!, token);
                sink!.Verify(names[k], _hashes[size.Bytes, seeds[k]], size.Bytes);
            }, cancellationToken);
            Record(store, op, size.Label, size.Display, size.Bytes, tasks, get, run);
        }

        if (options.Has("range") && size.Bytes >= RangeMinimumSize && store.SupportsRanges)
        {
            // One byte at a pseudo-random offset of a blob just put (the same offsets for every peer), checked against what was put.
            var range = await MeasureAsync(tasks, count, long.MaxValue, options.CellDuration, 1, sink: false, async (i, sink, token) =>
            {
                var k = (int)(i % count);
                var offset = (long)((ulong)(i + 1) * 0x9E3779B97F4A7C15UL % (ulong)size.Bytes);
                await store.GetRangeAsync(names[k], offset, 1, sink!, token);
                Span<byte> expected = stackalloc byte[1];
                GeneratedStream.Fill(seeds[k], offset, expected);
                sink!.VerifyByte(names[k], offset, expected[0]);
            }, cancellationToken);
            Record(store, "range", size.Label, size.Display, 1, tasks, range, run);
        }

        if (!options.Has("delete") || !measureDelete)
        {
            return false;
        }

        // Deletes of one task, over the blobs this cell put.
        var delete = await MeasureAsync(1, count, count, TimeSpan.Zero, 0, sink: null, (i, _, token) => store.DeleteAsync(names[i], token), cancellationToken);
        Record(store, "delete", size.Label, size.Display, 0, 1, delete, run);
        if (delete.Error is null)
        {
            leftovers.RemoveAll(names.Contains);
        }

        return true;
    }

    /// <summary>
    /// <c>put-dup</c>: uploads of content the peer already holds, under new names. A store that
    /// deduplicates writes no byte and runs at the speed of hashing; the folder's growth shows it.
    /// </summary>
    private async Task RunPutDuplicateAsync(IPeerStore store, string folder, SizeSpec size, int sizeIndex, int run, CancellationToken cancellationToken)
    {
        var seed = Seed(kind: 4, sizeIndex, 0, 0);
        var count = options.Quick ? 4 : 8;
        var names = Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"dup/copy{i:D2}")).Append("dup/source").ToArray();
        try
        {
            using (var content = new GeneratedStream(size.Bytes, seed))
            {
                await store.PutAsync("dup/source", content, cancellationToken);
            }

            var before = FolderBytes(folder);
            var cell = await MeasureAsync(1, count, count, TimeSpan.Zero, size.Bytes, sink: null, async (i, _, token) =>
            {
                using var content = new GeneratedStream(size.Bytes, seed);
                await store.PutAsync(names[i], content, token);
            }, cancellationToken);
            cell.DiskGrowthBytes = FolderBytes(folder) - before;
            Record(store, "put-dup", size.Label, size.Display, size.Bytes, 1, cell, run);
        }
        finally
        {
            await DeleteQuietlyAsync(store, names, cancellationToken);
        }
    }

    /// <summary><c>list</c>: one prefix of 100 blobs among <see cref="CompareOptions.ListBlobs"/> small ones, listed again and again.</summary>
    private async Task RunListAsync(IPeerStore store, int run, CancellationToken cancellationToken)
    {
        var prefixes = options.ListBlobs / BlobsPerPrefix;
        var names = new string[options.ListBlobs];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = string.Create(CultureInfo.InvariantCulture, $"list/p{i / BlobsPerPrefix:D3}/i{i % BlobsPerPrefix:D3}");
        }

        // Filled with 8 tasks, untimed.
        var fill = Stopwatch.StartNew();
        await Parallel.ForAsync(0, names.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, token) =>
        {
            using var content = new GeneratedStream(ListBlobSize, Seed(kind: 3, 0, 0, i));
            await store.PutAsync(names[i], content, token);
        });
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[run {run}/{options.Runs}] {store.Name,-17} stored {names.Length:N0} blobs to list in {fill.Elapsed.TotalSeconds:F2} s"));

        var prefix = string.Create(CultureInfo.InvariantCulture, $"list/p{prefixes / 2:D3}/");
        var list = await MeasureAsync(1, MinListOperations, long.MaxValue, options.CellDuration, 0, sink: null, async (_, _, token) =>
        {
            var found = await store.ListAsync(prefix, token);
            if (found != BlobsPerPrefix)
            {
                throw new InvalidDataException($"Listing '{prefix}' found {found} blobs; {BlobsPerPrefix} were put.");
            }
        }, cancellationToken);
        var display = string.Create(CultureInfo.InvariantCulture, $"{BlobsPerPrefix} of {options.ListBlobs:N0}");
        Record(store, "list", "list", display, 0, 1, list, run);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on <paramref name="tasks"/> tasks that take operation
    /// numbers in turn: at least <paramref name="minOperations"/>, and on until
    /// <paramref name="minDuration"/> has passed, at most <paramref name="maxOperations"/>.
    /// Measures each operation's latency, the cell's throughput and its peak working set. When
    /// <paramref name="sink"/> is set, each task gets its own <see cref="VerifyingSink"/>, hashing
    /// or not, for the operation to read into.
    /// </summary>
    private async Task<CellRun> MeasureAsync(
        int tasks,
        long minOperations,
        long maxOperations,
        TimeSpan minDuration,
        long bytesPerOperation,
        bool? sink,
        Func<long, VerifyingSink?, CancellationToken, ValueTask> operation,
        CancellationToken cancellationToken)
    {
        // Each cell starts from a collected heap, so its peak working set is its own.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();

        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var startWorkingSet = monitor.Reset();
        var next = -1L;
        var start = Stopwatch.GetTimestamp();
        var workers = new Task<List<long>>[tasks];
        for (var t = 0; t < tasks; t++)
        {
            workers[t] = Task.Run(async () =>
            {
                var latencies = new List<long>();
                using var destination = sink is { } hashing ? new VerifyingSink(hashing) : null;
                while (true)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= maxOperations || (i >= minOperations && Stopwatch.GetElapsedTime(start) >= minDuration))
                    {
                        return latencies;
                    }

                    destination?.Begin();
                    var begin = Stopwatch.GetTimestamp();
                    try
                    {
                        await operation(i, destination, failed.Token);
                    }
                    catch
                    {
                        await failed.CancelAsync();
                        throw;
                    }

                    latencies.Add(Stopwatch.GetTimestamp() - begin);
                }
            }, failed.Token);
        }

        List<long>[] results;
        try
        {
            results = await Task.WhenAll(workers);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            var error = workers.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!).FirstOrDefault()
                ?? new OperationCanceledException("The cell was cancelled.");
            return new CellRun
            {
                Error = $"{error.GetType().Name}: {error.Message}",
                WrongData = error is InvalidDataException,
                StartWorkingSet = startWorkingSet,
                PeakWorkingSet = monitor.Peak(),
            };
        }

        var seconds = Math.Max((double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency, 1e-9);
        var peakWorkingSet = monitor.Peak();
        var latencies = results.SelectMany(r => r).Order().ToArray();
        var operations = latencies.Length;
        return new CellRun
        {
            Operations = operations,
            Seconds = seconds,
            OpsPerSecond = operations / seconds,
            MegabytesPerSecond = bytesPerOperation > 0 ? operations * (double)bytesPerOperation / seconds / 1e6 : null,
            P50Milliseconds = Percentile(latencies, 0.50),
            P99Milliseconds = Percentile(latencies, 0.99),
            StartWorkingSet = startWorkingSet,
            PeakWorkingSet = peakWorkingSet,
        };
    }

    private void Record(IPeerStore store, string op, string size, string sizeDisplay, long sizeBytes, int tasks, CellRun result, int run)
    {
        var key = (store.Name, op, size, tasks);
        if (!_byKey.TryGetValue(key, out var cell))
        {
            cell = new CellResult { Peer = store.Name, Op = op, Size = size, SizeDisplay = sizeDisplay, SizeBytes = sizeBytes, Tasks = tasks, Durable = store.Durable };
            _byKey.Add(key, cell);
            _cells.Add(cell);
        }

        result.Run = run;
        cell.Runs.Add(result);
        var what = $"[run {run}/{options.Runs}] {store.Name,-17} {op,-7} {sizeDisplay,-12} x{tasks}";
        log.WriteLine(result.Error is not null
            ? $"{what}: FAILED {result.Error}"
            : string.Create(CultureInfo.InvariantCulture,
                $"{what}: {result.Operations,7:N0} ops in {result.Seconds,6:F2} s, {result.OpsPerSecond,10:N1} ops/s{(result.MegabytesPerSecond is { } mb ? $", {mb,8:N1} MB/s" : "")}, p50 {CompareReport.Milliseconds(result.P50Milliseconds)} ms, p99 {CompareReport.Milliseconds(result.P99Milliseconds)} ms, peak WS +{(result.PeakWorkingSet - result.StartWorkingSet) / 1e6:F1} MB"));
    }

    private void SetRatios(int run)
    {
        foreach (var cell in _cells)
        {
            var mine = cell.Runs.FirstOrDefault(r => r.Run == run && r.Error is null);
            if (mine is null)
            {
                continue;
            }

            mine.RatioToFileStore = RatioTo("file-store", cell, mine, run);
            mine.RatioToLiteDb = RatioTo("litedb", cell, mine, run);
        }
    }

    private double? RatioTo(string peer, CellResult cell, CellRun mine, int run)
    {
        var other = _byKey.GetValueOrDefault((peer, cell.Op, cell.Size, cell.Tasks))?.Runs.FirstOrDefault(r => r.Run == run && r.Error is null);
        return other is null || other.OpsPerSecond <= 0 ? null : mine.OpsPerSecond / other.OpsPerSecond;
    }

    private static async Task DeleteQuietlyAsync(IPeerStore store, IEnumerable<string> names, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            try
            {
                await store.DeleteAsync(name, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Cleanup only: a blob whose put failed is not there to delete.
            }
        }
    }

    private static double Percentile(long[] sortedTicks, double p) =>
        sortedTicks.Length == 0 ? 0 : sortedTicks[Math.Max(0, (int)Math.Ceiling(p * sortedTicks.Length) - 1)] * 1000.0 / Stopwatch.Frequency;

    // Distinct content for every blob of a run (kind, size, tasks, index), so that deduplication
    // never skips a write it should make; the same content for every peer and run.
    private static ulong Seed(int kind, int sizeIndex, int tasks, int index) =>
        ((ulong)kind << 56) | ((ulong)(sizeIndex + 1) << 48) | ((ulong)tasks << 32) | (uint)index;

    private static long FolderBytes(string folder)
    {
        long total = 0;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // Removed while counting (a temporary file): it holds nothing now.
            }
        }

        return total;
    }

    private void DeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException e)
        {
            log.WriteLine($"Could not remove {folder}: {e.Message}");
        }
    }
}
