using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// The peak working set of one 1 GiB put and one 1 GiB get, each peer in a fresh process of its
/// own. Inside the comparison's process the working set at a cell's start already holds whatever
/// earlier cells and peers left (the runtime keeps freed memory, the kernel keeps mapped pages),
/// so a cell's growth can read zero while its true peak is high; a fresh process starts from the
/// runtime and the peer alone, which is what a user's application sees.
/// </summary>
internal static class WorkingSetProbe
{
    public const string Argument = "--working-set-probe";
    public const long Size = 1024L * 1024 * 1024;

    private const ulong Seed = 0x5A5A_0000_0000_0001;
    private const int WarmUpSize = 64 * 1024 * 1024;
    private const int WarmUpRounds = 3;
    private static readonly TimeSpan WarmUpPause = TimeSpan.FromMilliseconds(300);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The SHA-256 the probe's get must return; computed once by the caller, out of the child's measurements.</summary>
    public static byte[] ExpectedHash() => ExpectedHashes.Compute(Size, Seed);

    /// <summary>Runs the probe of <paramref name="peer"/> in a child process on <paramref name="folder"/> and returns what it measured.</summary>
    public static async Task<ProbeResult> MeasureAsync(string peer, string folder, byte[] expectedHash, CancellationToken cancellationToken)
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

        foreach (var argument in new[] { "compare", Argument, peer, folder, Convert.ToHexStringLower(expectedHash) })
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
            return new ProbeResult { Error = why.Length > 0 ? why.Split('\n')[0] : $"exit code {process.ExitCode}" };
        }

        return JsonSerializer.Deserialize<ProbeResult>(text.Split('\n')[^1], JsonOptions)
            ?? new ProbeResult { Error = "no result" };
    }

    /// <summary>The child's side: <c>compare --working-set-probe PEER FOLDER SHA256</c>; writes one JSON line.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        if (args.Length != 3)
        {
            await Console.Error.WriteLineAsync($"usage: compare {Argument} PEER FOLDER SHA256");
            return 2;
        }

        var expected = Convert.FromHexString(args[2]);
        ThreadPool.GetMinThreads(out var workers, out var completion);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(completion, 64));
        using var monitor = new WorkingSetMonitor(TimeSpan.FromMilliseconds(20));
        try
        {
            await using var store = await PeerCatalog.OpenAsync(args[0], args[1], CancellationToken.None);

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

            Collect();
            var putStart = monitor.Reset();
            var watch = Stopwatch.StartNew();
            using (var content = new GeneratedStream(Size, Seed))
            {
                await store.PutAsync("probe/big", content);
            }

            var putSeconds = watch.Elapsed.TotalSeconds;
            var putPeak = monitor.Peak();

            Collect();
            var getStart = monitor.Reset();
            watch.Restart();
            using (var sink = new VerifyingSink(hashing: true))
            {
                await store.GetAsync("probe/big", sink);
                sink.Verify("probe/big", expected, Size);
            }

            var getSeconds = watch.Elapsed.TotalSeconds;
            var getPeak = monitor.Peak();
            var result = new ProbeResult
            {
                PutStartWorkingSet = putStart,
                PutPeakWorkingSet = putPeak,
                PutSeconds = putSeconds,
                GetStartWorkingSet = getStart,
                GetPeakWorkingSet = getPeak,
                GetSeconds = getSeconds,
            };
            Console.WriteLine(JsonSerializer.Serialize(result, JsonOptions));
            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{e.GetType().Name}: {e.Message}"));
            return 1;
        }
    }

    private static void Collect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}

/// <summary>What one probe measured, in bytes and seconds; or why it could not.</summary>
internal sealed class ProbeResult
{
    public int Run { get; set; }

    public long PutStartWorkingSet { get; init; }

    public long PutPeakWorkingSet { get; init; }

    public double PutSeconds { get; init; }

    public long GetStartWorkingSet { get; init; }

    public long GetPeakWorkingSet { get; init; }

    public double GetSeconds { get; init; }

    public string? Error { get; init; }
}
