using System.Diagnostics;
using BlobStorage.Tests.Crash;

namespace BlobStorage.Tests.ScaleOut;

/// <summary>What one process of the scale host printed and how it ended.</summary>
/// <param name="Lines">Every stdout line, in order, up to its exit or death.</param>
/// <param name="Killed">True when the test killed it.</param>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Stderr">What it wrote to stderr.</param>
public sealed record ScaleHostRun(IReadOnlyList<string> Lines, bool Killed, int ExitCode, string Stderr)
{
    /// <summary>The lines starting with <paramref name="kind"/>, split into their fields.</summary>
    public IEnumerable<string[]> Events(string kind) =>
        Lines.Where(l => l.StartsWith(kind + " ", StringComparison.Ordinal)).Select(l => l.Split(' '));
}

/// <summary>
/// Starts <c>tests/BlobStorage.ScaleHost</c> as processes of their own (built before the tests by the test project's
/// reference to it, beside the crash host), reads their stdout as it comes, and kills one (Process.Kill, the whole tree)
/// on the line a predicate picks.
/// </summary>
public static class ScaleHostRunner
{
    private static readonly Lazy<string> Dll = new(Locate);

    /// <summary>The host's assembly.</summary>
    public static string DllPath => Dll.Value;

    /// <summary>Runs the host with <paramref name="arguments"/>; kills it when <paramref name="killOn"/> is true of a line.</summary>
    public static async Task<ScaleHostRun> RunAsync(IEnumerable<string> arguments, Func<string, bool>? killOn, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(CrashHostRunner.DotnetPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(DllPath);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        start.Environment["DOTNET_EnableCrashReport"] = "0";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName} {DllPath}.");
        var killed = false;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                lines.Add(line);
                if (!killed && killOn is not null && killOn(line))
                {
                    killed = true;
                    try
                    {
                        process.Kill(entireProcessTree: true);
                    }
                    catch (InvalidOperationException)
                    {
                        // It had already exited.
                    }
                }
            }

            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException(
                $"The scale host ran longer than {timeout} and was killed. Its last lines:{Environment.NewLine}" +
                string.Join(Environment.NewLine, lines.TakeLast(10)) + Environment.NewLine + await stderr);
        }

        return new ScaleHostRun(lines, killed, process.ExitCode, await stderr);
    }

    private static string Locate()
    {
        // <repo>/tests/BlobStorage.CrashHost/bin/<Configuration>/<TFM>/ -> <repo>/tests/BlobStorage.ScaleHost/bin/<Configuration>/<TFM>/
        var crash = new FileInfo(CrashHostRunner.DllPath).Directory!;
        var dll = Path.Combine(crash.Parent!.Parent!.Parent!.Parent!.FullName, "BlobStorage.ScaleHost", "bin", crash.Parent.Name, crash.Name, "BlobStorage.ScaleHost.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException(
                $"The scale host is not built at '{dll}'. Build the test project (it references tests/BlobStorage.ScaleHost/BlobStorage.ScaleHost.csproj) " +
                $"or run: dotnet build tests/BlobStorage.ScaleHost -c {crash.Parent.Name}");
        }

        return dll;
    }
}
