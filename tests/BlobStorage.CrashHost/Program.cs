using BlobStorage;
using BlobStorage.CrashHost;

// CrashHost <root> <seed> <operations>: opens the store in <root>, runs the seeded workload and
// reports every call on stdout (see Report). The crash tests kill it at a random moment, or the
// engine ends it at the crash point named by BLOBSTORAGE_CRASH_AT.
// CrashHost permissions <root>: the permission checks of Permissions, for a run as an ordinary user.
// CrashHost memory-statistics <root> [keep|sqlite-first]: what SQLite counts as allocated after a store's first put and read.
if (args is ["permissions", var permissionsRoot] && !OperatingSystem.IsWindows())
{
    return await Permissions.RunAsync(permissionsRoot, new Report());
}

if (args is ["memory-statistics", var statisticsRoot, .. var rest])
{
    return await MemoryStatistics.RunAsync(statisticsRoot, rest is [var mode] ? mode : null);
}

if (args.Length != 3
    || !int.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out var seed)
    || !int.TryParse(args[2], System.Globalization.CultureInfo.InvariantCulture, out var operations)
    || operations < 0)
{
    await Console.Error.WriteLineAsync("usage: CrashHost <root> <seed> <operations>");
    return 2;
}

NoCoreDumps.Apply();
var report = new Report();
await using var store = await new BlobStoreBuilder(args[0])
    .Configure(o =>
    {
        o.ChunkSize = 64 * 1024;
        o.MultipartMinimumPartSize = 64 * 1024;
        o.GarbageCollectionGracePeriod = TimeSpan.Zero;

        // No work behind the workload's back: every transaction and chunk write is one of its calls, so
        // the Nth hit of a crash point is the same call on every replay of a seed, and a crash point
        // tells which side of its commit the call in flight died on. The workload runs maintenance itself.
        o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
        o.AccessFlushInterval = TimeSpan.FromDays(1);
    })
    .OpenAsync();

var workload = new Workload(store, seed, report);
try
{
    await workload.PrepareAsync();
    await workload.RunAsync(operations);
}
catch (Exception ex)
{
    // An unexpected failure is a finding, not a crash: the test reports it with the seed.
    report.Line($"FAIL {workload.Current}");
    await Console.Error.WriteLineAsync(ex.ToString());
    return 3;
}

report.Line("DONE");
return 0;
