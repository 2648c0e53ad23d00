using System.Diagnostics;
using BlobStorage.Tests.Crash;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Metadata;

/// <summary>
/// The first store a process opens turns off SQLite's memory statistics (one mutex every allocation of every
/// connection takes), unless the application keeps them with an AppContext switch. Each case runs in a process of its
/// own, where SQLite has not run before the store opens.
/// </summary>
public sealed class SqliteMemoryStatisticsTests
{
    [Test]
    public async Task A_process_whose_first_store_opens_before_sqlite_runs_counts_no_allocations()
    {
        (await MemoryUsedAsync(keep: false)).Should().Be(0, "with the statistics off SQLite counts nothing, whatever it allocates");
    }

    [Test]
    public async Task The_keep_switch_leaves_sqlite_counting_its_allocations()
    {
        (await MemoryUsedAsync(keep: true)).Should().BeGreaterThan(0, "with the statistics on SQLite counts its page caches and statements");
    }

    private static async Task<long> MemoryUsedAsync(bool keep)
    {
        using var folder = new TempFolder("memstats");
        var start = new ProcessStartInfo(CrashHostRunner.DotnetPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "exec", CrashHostRunner.DllPath, "memory-statistics", Path.Combine(folder.Path, "store") }) start.ArgumentList.Add(arg);
        if (keep) start.ArgumentList.Add("keep");

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the crash host.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout;
        process.ExitCode.Should().Be(0, $"the host printed:\n{output}\n{await stderr}");
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single(l => l.StartsWith("memory-used ", StringComparison.Ordinal));
        return long.Parse(line["memory-used ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
