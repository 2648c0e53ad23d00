using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// The peak working set of each size's puts and gets, each peer and size in a fresh process of its
/// own. Inside the comparison's process the working set at a cell's start already holds whatever
/// earlier cells and peers left (the runtime keeps freed memory, the kernel keeps mapped pages),
/// so a cell's growth can read zero while its true peak is high; a fresh process starts from the
/// runtime and the peer alone, which is what a user's application sees.
/// </summary>
/// <remarks>
/// 1 GiB: one put, then one get. Smaller sizes: the blobs of the size's put cell put with 1 task, then as many
/// again with 8, then each read once (the first read after the puts), the first half with 1 task and the second
/// with 8; the put peak covers both puts, the get peak both reads. Every get is hashed and checked.
/// </remarks>
internal static class WorkingSetProbe
{
    public const string Argument = "--working-set-probe";
    public const long LargeSize = 1024L * 1024 * 1024;

    private const ulong Seed = 0x5A5A_0000_0000_0001;
    private const int WarmUpSize = 64 * 1024 * 1024;
    private const int WarmUpRounds = 3;
    private static readonly TimeSpan WarmUpPause = TimeSpan.FromMilliseconds(300);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static readonly int[] PhaseTasks = [1, 8];

    /// <summary>The SHA-256 the probe's 1 GiB get must return; computed once by the caller, out of the child's measurements.</summary>
    public static byte[] ExpectedHash() => ExpectedHashes.Compute(LargeSize, Seed);

    /// <summary>
    /// Runs the probe of <paramref name="peer"/> at <paramref name="size"/> in a child process on <paramref name="folder"/> and
    /// returns what it measured; <paramref name="expectedHash"/> is the 1 GiB blob's (smaller sizes hash their blobs in the child).
    /// </summary>
    public static async Task<ProbeResult> MeasureAsync(string peer, string folder, SizeSpec size, byte[]? expectedHash, CancellationToken cancellationToken)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Started as "dotnet BlobStorage.Benchmarks.dll", the child needs the assembly named again.
        if (string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(WorkingSetProbe).Assembly.Location);
        }

        foreach (var argument in new[] { "compare", Argument, peer, folder, size.Label, expectedHash is null ? "-" : Convert.ToHexStringLower(expectedHash) })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("The probe process did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var text = (await output).Trim();
        if (process.ExitCode != 0 || text.Length == 0)
        {
            var why = (await errors).Trim();
            return new ProbeResult { Size = size.Label, Error = why.Length > 0 ? why.Split('\n')[0] : $"exit code {process.ExitCode}" };
        }

        return JsonSerializer.Deserialize<ProbeResult>(text.Split('\n')[^1], JsonOptions)
            ?? new ProbeResult { Size = size.Label, Error = "no result" };
    }

    /// <summary>The child's side: <c>compare --working-set-probe PEER FOLDER SIZE SHA256</c> (<c>-</c> below 1 GiB); writes one JSON line.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        if (args.Length != 4 || SizeSpec.Select([args[2]], quick: false) is not [var size])
        {
            await Console.Error.WriteLineAsync($"usage: compare {Argument} PEER FOLDER SIZE SHA256");
            return 2;
        }

        ThreadPool.GetMinThreads(out var workers, out var completion);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(completion, 64));
        using var monitor = new WorkingSetMonitor(TimeSpan.FromMilliseconds(20));
        try
        {
            await using var store = await PeerCatalog.OpenAsync(args[0], args[1], CancellationToken.None);
            var result = size.Bytes == LargeSize
                ? await RunLargeAsync(store, monitor, Convert.FromHexString(args[3]))
                : await RunPhaseAsync(store, monitor, size);
            Console.WriteLine(JsonSerializer.Serialize(result with { Size = size.Label }, JsonOptions));
            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{e.GetType().Name}: {e.Message}"));
            return 1;
        }
    }

    /// <summary>One 1 GiB put and one 1 GiB get, after three rounds of a 64 MiB put, get and delete.</summary>
    private static async Task<ProbeResult> RunLargeAsync(IPeerStore store, WorkingSetMonitor monitor, byte[] expected)
    {
        // Every path used often enough, with pauses, for tiered compilation to finish its recompiles
        // (after 30 calls, on a background thread): the peaks are then the transfers' and not the JIT's,
        // as in a process that has been running. A single short transfer left the recompiles to happen
        // during the measured one.
        for (var round = 0; round < WarmUpRounds; round++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"probe/warm{round}");
            using (var content = new GeneratedStream(WarmUpSize, Seed + 1 + (ulong)round))
            {
                await store.PutAsync(name, content);
            }

            using (var sink = new VerifyingSink(hashing: true))
            {
                await store.GetAsync(name, sink);
            }

            await store.DeleteAsync(name);
            await Task.Delay(WarmUpPause);
        }

        return await MeasurePhasesAsync(
            monitor,
            async () =>
            {
                using var content = new GeneratedStream(LargeSize, Seed);
                await store.PutAsync("probe/big", content);
            },
            async () =>
            {
                using var sink = new VerifyingSink(hashing: true);
                await store.GetAsync("probe/big", sink);
                sink.Verify("probe/big", expected, LargeSize);
            });
    }

    /// <summary>
    /// A size below 1 GiB: the put cell's blobs put with 1 task and again with 8, then each read once with as many tasks,
    /// after three rounds of a few puts, gets and deletes at the size (the JIT's recompiles done, as in a running process).
    /// </summary>
    private static async Task<ProbeResult> RunPhaseAsync(IPeerStore store, WorkingSetMonitor monitor, SizeSpec size)
    {
        var warmCount = Math.Min(8, size.PutCount);
        for (var round = 0; round < WarmUpRounds; round++)
        {
            await ForEachAsync(1, warmCount, async i =>
            {
                var name = Name("warm", round, i);
                using (var content = new GeneratedStream(size.Bytes, Seed + 1 + (ulong)(round * warmCount + i)))
                {
                    await store.PutAsync(name, content);
                }

                using (var sink = new VerifyingSink(hashing: true))
                {
                    await store.GetAsync(name, sink);
                }

                await store.DeleteAsync(name);
            });
            await Task.Delay(WarmUpPause);
        }

        // The blobs of each number of tasks, and what their gets must hash to, known before anything is measured.
        var count = size.PutCount;
        var seeds = PhaseTasks.Select((_, t) => Enumerable.Range(0, count).Select(i => Seed + 0x1000 + (ulong)(t * count + i)).ToArray()).ToArray();
        var hashes = new ExpectedHashes();
        hashes.Prepare(size.Bytes, seeds.SelectMany(s => s), CancellationToken.None);

        // Each blob of the phase, the first set with 1 task, the next with 8: its name and the seed of its content.
        async Task EachBlobAsync(Func<string, ulong, Task> action)
        {
            for (var t = 0; t < PhaseTasks.Length; t++)
            {
                var set = t;
                await ForEachAsync(PhaseTasks[set], count, i => action(Name("phase", set, i), seeds[set][i]));
            }
        }

        return await MeasurePhasesAsync(
            monitor,
            () => EachBlobAsync(async (name, seed) =>
            {
                using var content = new GeneratedStream(size.Bytes, seed);
                await store.PutAsync(name, content);
            }),
            () => EachBlobAsync(async (name, seed) =>
            {
                using var sink = new VerifyingSink(hashing: true);
                await store.GetAsync(name, sink);
                sink.Verify(name, hashes[size.Bytes, seed], size.Bytes);
            }));
    }

    /// <summary>Runs the puts, then the gets, each from a freshly collected heap; the peak working set and the time of each.</summary>
    private static async Task<ProbeResult> MeasurePhasesAsync(WorkingSetMonitor monitor, Func<Task> puts, Func<Task> gets)
    {
        Collect();
        var putStart = monitor.Reset();
        var watch = Stopwatch.StartNew();
        await puts();
        var putSeconds = watch.Elapsed.TotalSeconds;
        var putPeak = monitor.Peak();

        Collect();
        var getStart = monitor.Reset();
        watch.Restart();
        await gets();
        return new ProbeResult
        {
            PutStartWorkingSet = putStart,
            PutPeakWorkingSet = putPeak,
            PutSeconds = putSeconds,
            GetStartWorkingSet = getStart,
            GetPeakWorkingSet = monitor.Peak(),
            GetSeconds = watch.Elapsed.TotalSeconds,
        };
    }

    private static string Name(string kind, int set, int i) => string.Create(CultureInfo.InvariantCulture, $"probe/{kind}{set}/{i:D6}");

    /// <summary>Runs <paramref name="action"/> for 0 to <paramref name="count"/> - 1 on <paramref name="tasks"/> tasks, each taking the next number.</summary>
    private static async Task ForEachAsync(int tasks, int count, Func<int, Task> action)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await action(i);
            }
        })));
    }

    private static void Collect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}

/// <summary>What one probe measured, in bytes and seconds; or why it could not.</summary>
internal sealed record ProbeResult
{
    public int Run { get; set; }

    /// <summary>The size's label (<see cref="SizeSpec.Label"/>).</summary>
    public string Size { get; init; } = "";

    public long PutStartWorkingSet { get; init; }

    public long PutPeakWorkingSet { get; init; }

    public double PutSeconds { get; init; }

    public long GetStartWorkingSet { get; init; }

    public long GetPeakWorkingSet { get; init; }

    public double GetSeconds { get; init; }

    public string? Error { get; init; }
}
