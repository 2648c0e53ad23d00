using System.Diagnostics;

namespace BlobStorage.Tests.Crash;

/// <summary>What one run of the crash host printed and how it ended.</summary>
/// <param name="Lines">Every line it wrote to stdout, in order, up to its death.</param>
/// <param name="Killed">True when the test killed it.</param>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Stderr">What it wrote to stderr (a crash point's message, or a failure).</param>
/// <param name="Elapsed">From start to exit.</param>
public sealed record HostRun(IReadOnlyList<string> Lines, bool Killed, int ExitCode, string Stderr, TimeSpan Elapsed);

/// <summary>
/// Starts <c>tests/BlobStorage.CrashHost</c> as a process of its own (<c>dotnet BlobStorage.CrashHost.dll</c>),
/// reads its stdout line by line as it comes, and kills it with its whole process tree after a
/// given number of acknowledgements. The host is built before the tests by the test project's
/// reference to it; its output folder mirrors this assembly's (<c>bin/&lt;Configuration&gt;/&lt;TFM&gt;</c>).
/// </summary>
public static class CrashHostRunner
{
    private static readonly Lazy<string> Dll = new(Locate);

    /// <summary>The host's assembly; throws with what to do when it has not been built.</summary>
    public static string DllPath => Dll.Value;

    /// <summary>The <c>dotnet</c> running these tests, so the host runs on the same runtime.</summary>
    public static string DotnetPath
    {
        get
        {
            var current = Environment.ProcessPath;
            if (current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return current;
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
        }
    }

    /// <summary>
    /// Runs the host on <paramref name="root"/>. With <paramref name="killAfterAcks"/> it is killed
    /// <paramref name="killDelay"/> after that many ACK lines (after its start for zero); with <paramref name="crashAt"/> the
    /// engine ends it at that crash point. Either way stdout is read to its end, so every line the
    /// host wrote before it died is returned.
    /// </summary>
    public static async Task<HostRun> RunAsync(string root, int seed, int operations, string? crashAt, int? killAfterAcks, TimeSpan killDelay, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(DotnetPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(root)!,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(DllPath);
        start.ArgumentList.Add(root);
        start.ArgumentList.Add(seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(operations.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.Environment.Remove("BLOBSTORAGE_CRASH_AT");
        if (crashAt is not null) start.Environment["BLOBSTORAGE_CRASH_AT"] = crashAt;
        // A crash point aborts the process: no crash report or mini dump, which would only cost time.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        start.Environment["DOTNET_EnableCrashReport"] = "0";

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {DotnetPath} {DllPath}.");
        var killed = 0;
        void Kill()
        {
            if (Interlocked.Exchange(ref killed, 1) != 0) return;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It had already exited.
            }
        }

        void KillAfter(TimeSpan delay)
        {
            // Reading goes on while the kill is pending, so the host never blocks on a full pipe.
            if (delay <= TimeSpan.Zero) Kill();
            else _ = Task.Delay(delay, CancellationToken.None).ContinueWith(_ => Kill(), TaskScheduler.Default);
        }

        // Zero acknowledgements: the kill lands while the runtime starts, the store recovers or the first calls run.
        if (killAfterAcks == 0) KillAfter(killDelay);
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        var acks = 0;
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                lines.Add(line);
                if (killAfterAcks is { } limit && line.StartsWith("ACK ", StringComparison.Ordinal) && ++acks == limit) KillAfter(killDelay);
            }

            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Kill();
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException(
                $"The crash host (seed {seed}) ran longer than {timeout} and was killed. Its last lines:{Environment.NewLine}" +
                string.Join(Environment.NewLine, lines.TakeLast(10)) + Environment.NewLine + await stderr);
        }

        return new HostRun(lines, killed != 0, process.ExitCode, await stderr, clock.Elapsed);
    }

    private static string Locate()
    {
        // <repo>/tests/BlobStorage.Tests/bin/<Configuration>/<TFM>/ -> <repo>/tests/BlobStorage.CrashHost/bin/<Configuration>/<TFM>/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent?.Name;
        var tests = output.Parent?.Parent?.Parent?.Parent;
        if (configuration is null || tests is null)
        {
            throw new InvalidOperationException($"The test assembly's folder '{output.FullName}' is not bin/<Configuration>/<TFM> of a project under tests/.");
        }

        var dll = Path.Combine(tests.FullName, "BlobStorage.CrashHost", "bin", configuration, framework, "BlobStorage.CrashHost.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException(
                $"The crash host is not built at '{dll}'. Build the test project (it references tests/BlobStorage.CrashHost/BlobStorage.CrashHost.csproj) " +
                $"or run: dotnet build tests/BlobStorage.CrashHost -c {configuration}");
        }

        return dll;
    }
}
