using System.Diagnostics;
using System.Globalization;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>small-ops [--op put|list] [--size-kib N] [--tasks N] [--seconds S] [--dir PATH]</c>: what a small put or a
/// listing costs the machine in steady state, through <see cref="BlobStoreBuilder"/> defaults. After a warm-up
/// (JIT tiers, connections, pool threads), it runs the operation for a fixed time with the given number of tasks
/// and prints operations a second, p50 and p99 latency, and per operation the process's user and kernel CPU
/// (every thread), the bytes allocated and the garbage collections. <c>put</c> writes fresh content each time;
/// <c>list</c> stores 10,000 blobs of 1 KiB under 100 prefixes (as <c>compare</c> does) and lists one prefix of 100.
/// Run it under <c>perf record</c> to see where the CPU goes with nothing but the operation running.
/// </summary>
internal static class SmallOpsCommand
{
    private const string Container = "small";

    public static async Task<int> RunAsync(string[] args)
    {
        var op = "put";
        var sizeKib = 4;
        var tasks = 1;
        var seconds = 5.0;
        var root = Path.Combine(Path.GetTempPath(), "small-ops-" + Guid.NewGuid().ToString("N"));
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--op": op = args[i + 1]; break;
                case "--size-kib": sizeKib = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--tasks": tasks = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--dir": root = Path.Combine(Path.GetFullPath(args[i + 1]), "small-ops-" + Guid.NewGuid().ToString("N")); break;
                default:
                    Console.Error.WriteLine($"small-ops: unknown argument '{args[i]}'; usage: small-ops [--op put|list] [--size-kib N] [--tasks N] [--seconds S] [--dir PATH]");
                    return 2;
            }
        }

        if (op is not ("put" or "list"))
        {
            Console.Error.WriteLine($"small-ops: --op takes put or list; '{op}' is neither.");
            return 2;
        }

        Directory.CreateDirectory(root);
        try
        {
            await using var store = await new BlobStoreBuilder(Path.Combine(root, "store")).OpenAsync();
            await store.CreateContainerAsync(Container);
            var size = sizeKib * 1024;
            var next = 0L;
            Func<Task> operation;
            if (op == "put")
            {
                operation = async () =>
                {
                    var n = Interlocked.Increment(ref next);
                    using var content = new GeneratedStream(size, (ulong)n);
                    await store.UploadAsync(Container, "data/" + n.ToString("D8", CultureInfo.InvariantCulture), content);
                };
            }
            else
            {
                for (var i = 0; i < 10_000; i++)
                {
                    using var content = new GeneratedStream(1024, (ulong)i);
                    await store.UploadAsync(Container, string.Create(CultureInfo.InvariantCulture, $"list/p{i / 100:D3}/i{i % 100:D3}"), content);
                }

                operation = async () =>
                {
                    var count = 0;
                    string? token = null;
                    do
                    {
                        var page = await store.ListAsync(Container, new BlobListOptions { Prefix = "list/p050/", PageSize = BlobListOptions.MaxPageSize, ContinuationToken = token });
                        count += page.Blobs.Count;
                        token = page.ContinuationToken;
                    }
                    while (token is not null);
                    if (count != 100) throw new InvalidDataException($"The listing found {count} blobs; 100 were put.");
                };
            }

            // Warm-up: a second of the same work, untimed.
            await RunForAsync(operation, tasks, TimeSpan.FromSeconds(Math.Min(1, seconds / 4)));

            using var self = Process.GetCurrentProcess();
            self.Refresh();
            var (user, kernel) = (self.UserProcessorTime, self.PrivilegedProcessorTime);
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var gcs = GC.CollectionCount(0);
            var started = Stopwatch.GetTimestamp();
            var latencies = await RunForAsync(operation, tasks, TimeSpan.FromSeconds(seconds));
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            self.Refresh();
            var ops = latencies.Count;
            latencies.Sort();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"small-ops {op} {(op == "put" ? sizeKib + " KiB" : "100 of 10,000")} x{tasks}: {ops / elapsed:F0} ops/s, p50 {latencies[ops / 2]:F3} ms, p99 {latencies[ops * 99 / 100]:F3} ms; " +
                $"per op: user CPU {(self.UserProcessorTime - user).TotalMicroseconds / ops:F1} us, kernel CPU {(self.PrivilegedProcessorTime - kernel).TotalMicroseconds / ops:F1} us, " +
                $"allocated {(double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / ops:F0} B; gen0 GCs {GC.CollectionCount(0) - gcs} in {ops} ops"));
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Left for the temporary folder's owner to clean.
            }
        }
    }

    /// <summary>Runs <paramref name="operation"/> on <paramref name="tasks"/> tasks until <paramref name="duration"/> has passed; returns every latency in milliseconds.</summary>
    private static async Task<List<double>> RunForAsync(Func<Task> operation, int tasks, TimeSpan duration)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<double>();
            while (Stopwatch.GetTimestamp() < end)
            {
                var started = Stopwatch.GetTimestamp();
                await operation();
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return latencies;
        })).ToArray();
        return (await Task.WhenAll(workers)).SelectMany(l => l).ToList();
    }
}
