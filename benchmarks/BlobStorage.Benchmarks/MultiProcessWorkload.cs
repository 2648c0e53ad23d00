using System.Diagnostics;
using System.Globalization;
using Azure.Storage.Blobs;
using BlobStorage.Azure;
using Npgsql;

namespace BlobStorage.Benchmarks;

/// <summary>
/// The scale-out tests' workload, timed: three processes of <c>tests/BlobStorage.ScaleHost</c>, each a writer (create-only
/// and <c>IfMatch</c> writes of 1 to 160 KiB on shared names) and a reader (downloads checked against their hash), over
/// one PostgreSQL schema and one Azurite container; against one process running the same six roles over one store.
/// The collector is left out: its passes are paced by the clock, not by work. Each round uses a new schema and container
/// for each side, and the two sides alternate which goes first. Seconds are from the start of the processes to the exit
/// of the last (runtime start and store open included), and the work phase alone (the longest a host reports).
/// </summary>
internal static class MultiProcessWorkload
{
    private const string Roles = "writer,reader";

    public static async Task RunAsync(string? scaleHost, string postgreSql, string azurite, int operations, int rounds, string parent)
    {
        var dll = scaleHost ?? Locate();
        if (!File.Exists(dll))
        {
            Console.WriteLine($"multi-process workload skipped: the scale host is not built at '{dll}' (dotnet build tests/BlobStorage.ScaleHost -c Release, or --scalehost DLL).");
            return;
        }

        Console.WriteLine($"Multi-process workload: 3 processes x ({Roles}) against 1 process x 3 x ({Roles}), {operations} operations per role, PostgreSQL + Azurite, {rounds} rounds");
        var multi = new List<(double Wall, double Work, int Operations)>();
        var single = new List<(double Wall, double Work, int Operations)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var processes in round % 2 == 1 ? new[] { 3, 1 } : [1, 3])
            {
                var result = await RunOnceAsync(dll, postgreSql, azurite, operations, processes, parent);
                if (result is not { } r) return;
                (processes == 3 ? multi : single).Add(r);
                Console.WriteLine($"  round {round}  {(processes == 3 ? "3 processes" : "1 process "),-12} {r.Wall,7:F2} s (work {r.Work,6:F2} s)  {r.Operations} operations acknowledged or read");
            }
        }

        var multiWall = Median(multi.Select(m => m.Wall));
        var singleWall = Median(single.Select(s => s.Wall));
        var multiWork = Median(multi.Select(m => m.Work));
        var singleWork = Median(single.Select(s => s.Work));
        Console.WriteLine();
        Console.WriteLine($"{"workload",-14} {"seconds",8} {"work s",8}   (medians of {rounds} rounds)");
        Console.WriteLine($"{"1 process",-14} {singleWall,8:F2} {singleWork,8:F2}");
        Console.WriteLine($"{"3 processes",-14} {multiWall,8:F2} {multiWork,8:F2}");
        Console.WriteLine($"speed-up of 3 processes over 1: {singleWall / multiWall:F2}x wall, {singleWork / multiWork:F2}x work phase");
    }

    private static async Task<(double Wall, double Work, int Operations)?> RunOnceAsync(string dll, string postgreSql, string azurite, int operations, int processes, string parent)
    {
        var schema = "bench_mp_" + Guid.NewGuid().ToString("N")[..16];
        var container = new BlobContainerClient(azurite, "bench-mp-" + Guid.NewGuid().ToString("N")[..16]);
        var work = Path.Combine(parent, "blobstorage-multi-" + Guid.NewGuid().ToString("N"));
        try
        {
            await container.CreateAsync();

            // The schema migrated and the container made before the processes start, as the tests do.
            await using (var store = await new BlobStoreBuilder(Path.Combine(work, "prepare"))
                .UsePostgreSqlMetadataStore(postgreSql, schema)
                .UseAzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = azurite, ContainerName = container.Name })
                .Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan)
                .OpenAsync())
            {
                await store.CreateContainerAsync("shared");
            }

            var roles = processes == 3 ? Roles : string.Join(',', Enumerable.Repeat(Roles, 3));
            var clock = Stopwatch.StartNew();
            var runs = await Task.WhenAll(Enumerable.Range(0, processes).Select(i => RunHostAsync(dll,
            [
                "--roles", roles, "--pg", postgreSql, "--schema", schema, "--root", Path.Combine(work, "p" + i.ToString(CultureInfo.InvariantCulture)),
                "--azurite", azurite, "--azure-container", container.Name, "--ops", operations.ToString(CultureInfo.InvariantCulture),
                "--seed", (i + 1).ToString(CultureInfo.InvariantCulture), "--names", "6", "--container", "shared",
            ])));
            var wall = clock.Elapsed.TotalSeconds;
            foreach (var (lines, exitCode, stderr) in runs)
            {
                if (exitCode != 0 || lines.Any(l => l.StartsWith("ERROR ", StringComparison.Ordinal)))
                {
                    throw new InvalidOperationException($"A scale host failed (exit {exitCode}): {string.Join(" | ", lines.Where(l => l.StartsWith("ERROR ", StringComparison.Ordinal)))} {stderr}");
                }
            }

            var workSeconds = runs.Max(r => double.Parse(r.Lines.Single(l => l.StartsWith("DONE ", StringComparison.Ordinal))[5..], CultureInfo.InvariantCulture));
            var done = runs.Sum(r => r.Lines.Count(l => l.StartsWith("ACK ", StringComparison.Ordinal) || l.StartsWith("READ ", StringComparison.Ordinal)));
            return (wall, workSeconds, done);
        }
        catch (Exception ex) when (ex is global::Azure.RequestFailedException or HttpRequestException or AggregateException or NpgsqlException or BlobStorage.Abstractions.BlobStorageException)
        {
            Console.WriteLine($"  multi-process workload skipped: {ex.Message.Split('\n')[0]}");
            return null;
        }
        finally
        {
            try
            {
                await container.DeleteIfExistsAsync();
                await using var connection = new NpgsqlConnection(postgreSql);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE;", connection);
                await command.ExecuteNonQueryAsync();
            }
            catch (Exception ex) when (ex is global::Azure.RequestFailedException or HttpRequestException or NpgsqlException)
            {
                Console.WriteLine($"  clean-up failed: {ex.Message.Split('\n')[0]}");
            }

            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(List<string> Lines, int ExitCode, string Stderr)> RunHostAsync(string dll, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start dotnet {dll}.");
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (await process.StandardOutput.ReadLineAsync() is { } line) lines.Add(line);
        await process.WaitForExitAsync();
        return (lines, process.ExitCode, await stderr);
    }

    private static string Locate()
    {
        // <repo>/benchmarks/BlobStorage.Benchmarks/bin/<Configuration>/<TFM>/ -> <repo>/tests/BlobStorage.ScaleHost/bin/<Configuration>/<TFM>/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var repository = output.Parent?.Parent?.Parent?.Parent?.Parent?.FullName ?? output.FullName;
        return Path.Combine(repository, "tests", "BlobStorage.ScaleHost", "bin", output.Parent?.Name ?? "Release", output.Name, "BlobStorage.ScaleHost.dll");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
