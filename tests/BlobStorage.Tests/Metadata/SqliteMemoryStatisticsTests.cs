using System.Diagnostics;
using System.Text.Json.Nodes;
using BlobStorage.Tests.Crash;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Metadata;

/// <summary>
/// The first store a process opens turns off SQLite's memory statistics (one mutex every allocation of every
/// connection takes), unless the application keeps them with an AppContext switch, or SQLite already runs in the
/// process. Each case runs in a process of its own, as the README describes it.
/// </summary>
public sealed class SqliteMemoryStatisticsTests
{
    [Test]
    public async Task A_process_whose_first_store_opens_before_sqlite_runs_counts_no_allocations()
    {
        using var folder = new TempFolder("memstats");
        (await MemoryUsedAsync(folder, mode: null)).Should().Be(0, "with the statistics off SQLite counts nothing, whatever it allocates");
    }

    [Test]
    public async Task The_keep_switch_leaves_sqlite_counting_its_allocations()
    {
        using var folder = new TempFolder("memstats");
        (await MemoryUsedAsync(folder, mode: "keep")).Should().BeGreaterThan(0, "with the statistics on SQLite counts its page caches and statements");
    }

    [Test]
    public async Task The_keep_switch_set_in_the_runtime_configuration_leaves_sqlite_counting_its_allocations()
    {
        // What a RuntimeHostConfigurationOption in the application's project file writes: a property of its runtimeconfig.json.
        using var folder = new TempFolder("memstats");
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.ChangeExtension(CrashHostRunner.DllPath, ".runtimeconfig.json")))!;
        var options = config["runtimeOptions"]!.AsObject();
        if (options["configProperties"] is not JsonObject properties) options["configProperties"] = properties = [];
        properties["BlobStorage.Sqlite.KeepMemoryStatistics"] = true;
        var path = Path.Combine(folder.Path, "host.runtimeconfig.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());

        (await MemoryUsedAsync(folder, mode: null, runtimeConfig: path)).Should().BeGreaterThan(0, "the switch in the runtime configuration keeps the statistics on");
    }

    [Test]
    public async Task A_process_that_ran_sqlite_before_its_first_store_keeps_the_statistics()
    {
        using var folder = new TempFolder("memstats");
        (await MemoryUsedAsync(folder, mode: "sqlite-first")).Should().BeGreaterThan(0, "SQLite refuses the setting once it runs, and the store changes nothing");
    }

    private static async Task<long> MemoryUsedAsync(TempFolder folder, string? mode, string? runtimeConfig = null)
    {
        var start = new ProcessStartInfo(CrashHostRunner.DotnetPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        if (runtimeConfig is not null)
        {
            start.ArgumentList.Add("--runtimeconfig");
            start.ArgumentList.Add(runtimeConfig);
        }

        foreach (var arg in new[] { CrashHostRunner.DllPath, "memory-statistics", Path.Combine(folder.Path, "store") }) start.ArgumentList.Add(arg);
        if (mode is not null) start.ArgumentList.Add(mode);

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
