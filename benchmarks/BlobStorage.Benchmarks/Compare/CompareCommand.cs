using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// <c>compare [options]</c>: BlobStorage side by side with what a user would otherwise do (a
/// hand-written file store, the same with metadata in SQLite, blobs inside SQLite, LiteDB's file
/// storage), in one process, on one disk. Prints a markdown table and a verdict on each of issue
/// 4's targets, and writes every number to JSON. See <see cref="CompareOptions.Usage"/>.
/// </summary>
public static class CompareCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length > 0 && args[0] == WorkingSetProbe.Argument)
        {
            return await WorkingSetProbe.RunChildAsync(args[1..]);
        }

        var options = CompareOptions.Parse(args, out var error);
        if (options is null)
        {
            if (!string.IsNullOrEmpty(error))
            {
                Console.Error.WriteLine(error);
            }

            Console.Error.WriteLine(CompareOptions.Usage);
            return string.IsNullOrEmpty(error) ? 0 : 2;
        }

        // Peers block threads in fsync and in synchronous APIs: enough threads from the start,
        // so no cell waits for the thread pool to grow.
        ThreadPool.GetMinThreads(out var workers, out var completion);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(completion, 64));

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var work = Path.Combine(options.Directory, "run-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var started = DateTimeOffset.UtcNow;
        var machine = MachineDescription(work);
        var command = "dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- compare" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
        Console.Error.WriteLine($"compare: working in {work}");
        var sha256 = ExpectedHashes.MeasureSha256(64L * 1024 * 1024);
        var loadBefore = LoadAverage();

        CompareRunner runner;
        using (var monitor = new WorkingSetMonitor(TimeSpan.FromMilliseconds(20)))
        {
            runner = new CompareRunner(options, monitor, Console.Error);
            try
            {
                await runner.RunAsync(work, cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                Console.Error.WriteLine("compare: cancelled; nothing reported.");
                return 130;
            }
            finally
            {
                RemoveWorkFolder(work, options);
            }
        }

        var finished = DateTimeOffset.UtcNow;
        var loadAfter = LoadAverage();
        var targets = CompareReport.Targets(runner.Cells, runner.Probes, options, sha256);
        Console.WriteLine("### BlobStorage side by side");
        Console.WriteLine();
        Console.WriteLine($"`{command}`");
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant(
            $"{machine.Cores} cores ({machine.Cpu}), {machine.MemoryGigabytes:F0} GB, {machine.Os}, .NET {machine.Runtime}, {machine.FileSystem}; {started:yyyy-MM-dd HH:mm} UTC, {(finished - started).TotalMinutes:F1} min; load average {loadBefore} before, {loadAfter} after; SHA-256 of a generated stream on one core: {sha256:N0} MB/s."));
        Console.WriteLine();
        Console.Write(CompareReport.Table(runner.Cells, options.Peers));
        Console.WriteLine();
        if (runner.Probes.Count > 0)
        {
            Console.Write(CompareReport.ProbeTable(runner.Probes, runner.Peers));
            Console.WriteLine();
        }

        Console.Write(CompareReport.Notes(options, runner.Peers, runner.Cells));
        Console.WriteLine();
        Console.WriteLine("Targets of issue 4 (ratios to file-store in the same run):");
        Console.WriteLine();
        Console.Write(CompareReport.TargetLines(targets));
        foreach (var failure in runner.Failures)
        {
            Console.WriteLine($"- failure: {failure}");
        }

        var document = new
        {
            Command = command,
            Started = started,
            Finished = finished,
            Machine = machine,
            Options = new
            {
                options.Peers,
                Sizes = options.Sizes.Select(s => new { s.Label, s.Bytes, s.PutCount }),
                options.Ops,
                options.Tasks,
                options.Runs,
                options.Quick,
                CellSeconds = options.CellDuration.TotalSeconds,
                options.ListBlobs,
            },
            Sha256MegabytesPerSecond = sha256,
            LoadAverage = new { Before = loadBefore, After = loadAfter },
            Peers = runner.Peers.Select(p => new { Name = p.Key, p.Value.Durable, p.Value.Description }),
            runner.Cells,
            WorkingSetProbes = runner.Probes,
            Targets = targets,
            runner.Failures,
        };
        var json = Path.GetFullPath(options.JsonPath);
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(document, JsonOptions));
        Console.Error.WriteLine($"compare: all numbers in {json}");

        var wrongData = runner.Cells.SelectMany(c => c.Runs).Any(r => r.WrongData);
        if (wrongData)
        {
            Console.Error.WriteLine("compare: a get returned bytes other than those put (see the table).");
        }

        return wrongData ? 1 : 0;
    }

    private static void RemoveWorkFolder(string work, CompareOptions options)
    {
        try
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }

            if (options.DirectoryIsDefault && Directory.Exists(options.Directory) && !Directory.EnumerateFileSystemEntries(options.Directory).Any())
            {
                Directory.Delete(options.Directory);
            }
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"compare: could not remove {work}: {e.Message}");
        }
    }

    // The 1, 5 and 15 minute load averages: other work on the machine shows in every number.
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static Machine MachineDescription(string folder)
    {
        var cpu = "unknown CPU";
        var fileSystem = "unknown file system";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                cpu = File.ReadLines("/proc/cpuinfo")
                    .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            }

            if (File.Exists("/proc/mounts"))
            {
                // The mount whose point is the longest prefix of the folder holds it.
                var mount = File.ReadLines("/proc/mounts")
                    .Select(l => l.Split(' '))
                    .Where(f => f.Length > 2 && (folder + "/").StartsWith(f[1].TrimEnd('/') + "/", StringComparison.Ordinal))
                    .MaxBy(f => f[1].Length);
                if (mount is not null)
                {
                    fileSystem = $"{mount[2]} on {mount[0]} ({mount[1]})";
                }
            }
        }
        catch (IOException)
        {
            // Description only.
        }

        return new Machine(
            Environment.ProcessorCount,
            cpu,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9,
            RuntimeInformation.OSDescription,
            Environment.Version.ToString(),
            fileSystem,
            folder);
    }

    private sealed record Machine(int Cores, string Cpu, double MemoryGigabytes, string Os, string Runtime, string FileSystem, string Folder);
}
