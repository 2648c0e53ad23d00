using System.Diagnostics;
using FluentAssertions.Execution;
using BlobStorage.Tests.Crash;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Safety;

/// <summary>
/// The store shut out of its own files by their permissions: a chunk file with mode 000, a shard folder with
/// mode 000, a chunk folder it cannot write into. Root ignores permissions, so the checks run in the crash host
/// as an ordinary user: as the user running the tests, or, when that is root, as <c>nobody</c> through
/// <c>setpriv</c>. Every failure must be a <c>BlobStorageException</c> with the AccessDenied code and the
/// operating system's exception inside, the rest of the store must keep working, and nothing may change.
/// </summary>
[Platform(Exclude = "Win")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class PermissionTests
{
    private const int Nobody = 65534;

    [Test]
    public async Task A_store_shut_out_by_permissions_fails_typed_and_reads_on()
    {
        using var folder = new TempFolder("permissions");
        var lines = await RunAsOrdinaryUserAsync(Path.Combine(folder.Path, "store"));
        var outcome = lines.Where(l => l.Contains(": ", StringComparison.Ordinal)).ToDictionary(l => l[..l.IndexOf(": ", StringComparison.Ordinal)], l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
        using (new AssertionScope())
        {
            lines.Should().Contain("DONE", string.Join("\n", lines));
            lines.Should().NotContain(l => l.Contains(": raw ", StringComparison.Ordinal), "no raw exception leaves the store");
            outcome["unreadable-chunk download a"].Should().Be("typed AccessDenied inner=UnauthorizedAccessException");
            outcome["unreadable-chunk download b"].Should().Be("ok bytes-match");
            outcome["unreadable-chunk verify"].Should().StartWith("ok blobs=2 problems=1 a: ").And.Contain("Access was denied");
            outcome["unreadable-shard open"].Should().Be("ok", "a shard that cannot be listed does not keep the store closed");
            outcome["unreadable-shard download b"].Should().Be("typed AccessDenied inner=UnauthorizedAccessException");
            outcome["unreadable-shard download a"].Should().Be("ok bytes-match");
            outcome["unreadable-shard verify"].Should().Be("typed AccessDenied inner=UnauthorizedAccessException");
            outcome["read-only-folder upload"].Should().Be("typed AccessDenied inner=UnauthorizedAccessException");
            outcome["read-only-folder exists c"].Should().Be("typed BlobNotFound inner=none", "the failed upload changed nothing");
            outcome["after download a"].Should().Be("ok bytes-match");
            outcome["after download b"].Should().Be("ok bytes-match");
            outcome["after verify"].Should().Be("ok clean");
        }
    }

    private static async Task<List<string>> RunAsOrdinaryUserAsync(string root)
    {
        var asRoot = Environment.UserName == "root" || (OperatingSystem.IsLinux() && File.ReadAllText("/proc/self/status").Contains("\nUid:\t0\t", StringComparison.Ordinal));
        ProcessStartInfo start;
        if (asRoot)
        {
            if (!File.Exists("/usr/bin/setpriv")) Assert.Ignore("Running as root without setpriv (util-linux): the permission checks cannot run as an ordinary user here.");

            // The user must reach the host's files and write the store's folder.
            var parent = Path.GetDirectoryName(root)!;
            File.SetUnixFileMode(parent, (UnixFileMode)0b111_111_111);
            start = new ProcessStartInfo("/usr/bin/setpriv");
            foreach (var arg in new[] { $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "--", CrashHostRunner.DotnetPath, "exec", CrashHostRunner.DllPath, "permissions", root }) start.ArgumentList.Add(arg);
            start.Environment["DOTNET_CLI_HOME"] = parent;
            start.Environment["HOME"] = parent;
        }
        else
        {
            start = new ProcessStartInfo(CrashHostRunner.DotnetPath);
            foreach (var arg in new[] { "exec", CrashHostRunner.DllPath, "permissions", root }) start.ArgumentList.Add(arg);
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the crash host.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        process.ExitCode.Should().Be(0, $"the host printed:\n{string.Join("\n", lines)}\n{await stderr}");
        TestContext.Out.WriteLine($"As {(asRoot ? "nobody (the tests run as root)" : Environment.UserName)}:\n{string.Join("\n", lines)}");
        return lines;
    }
}
