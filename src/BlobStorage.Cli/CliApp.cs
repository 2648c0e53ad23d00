using System.CommandLine;
using System.Text.Json;
using BlobStorage.Abstractions;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace BlobStorage.Cli;

/// <summary>
/// The <c>blobstorage</c> command line: every command works on the store folder named by <c>--store</c>. Output goes to the
/// console given (a test passes Spectre.Console.Testing's TestConsole), errors to <c>error</c>, one line each, and the exit
/// code says what happened (<see cref="ExitCodes"/>).
/// </summary>
internal static partial class CliApp
{
    internal static readonly Option<string> Store = new("--store", "-s")
    {
        Description = "The store folder.",
        Required = true,
        Recursive = true,
    };

    internal static readonly Option<bool> Json = new("--json")
    {
        Description = "Write the result as JSON, for scripts.",
    };

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>Runs one command line and returns its exit code.</summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, TextWriter error, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(console, error);
        var root = new RootCommand("blobstorage: work with a BlobStorage store folder (containers, blobs, statistics, verification, collection, backup and restore).")
        {
            Store,
            InitCommand(context),
            ContainersCommand(context),
            ListCommand(context),
            PutCommand(context),
            GetCommand(context),
            RemoveCommand(context),
            StatCommand(context),
            StatsCommand(context),
            VerifyCommand(context),
            GcCommand(context),
            BackupCommand(context),
            RestoreCommand(context),
        };

        var parsed = root.Parse(args);
        var output = new StringWriter();
        var invocation = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors) await error.WriteLineAsync("error: " + problem.Message).ConfigureAwait(false);
            await error.WriteLineAsync("Run 'blobstorage --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        try
        {
            var code = await parsed.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
            if (output.GetStringBuilder().Length > 0) console.Profile.Out.Writer.Write(output.ToString());
            return code;
        }
        catch (Exception ex) when (Classify(ex) is { } code)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return code;
        }
    }

    /// <summary>The exit code of a failure the tool reports as a message, or null for a bug (which surfaces with its stack trace).</summary>
    private static int? Classify(Exception ex) => ex switch
    {
        CliException cli => cli.ExitCode,
        ContainerNotFoundException or BlobNotFoundException or UploadNotFoundException => ExitCodes.NotFound,
        ContainerAlreadyExistsException or ContainerNotEmptyException or PreconditionFailedException => ExitCodes.Refused,
        BlobStorageException { ErrorCode: BlobErrorCode.BackupRefused } => ExitCodes.Refused,
        BlobStorageException => ExitCodes.Failed,
        OptionsValidationException => ExitCodes.Usage,
        ArgumentException => ExitCodes.Usage,
        FileNotFoundException or DirectoryNotFoundException => ExitCodes.NotFound,
        IOException or UnauthorizedAccessException => ExitCodes.Failed,
        OperationCanceledException => ExitCodes.Failed,
        _ => null,
    };

    /// <summary>Opens the store at <c>--store</c>; a folder that holds no store is an error, and nothing is created.</summary>
    internal static async Task<IBlobStore> OpenStoreAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(parsed.GetValue(Store)!);
        if (!File.Exists(Path.Combine(path, "metadata.db")))
        {
            throw new CliException(ExitCodes.NotFound, Directory.Exists(path)
                ? $"'{path}' holds no store (no metadata.db). Create one with 'blobstorage init --store {path}'."
                : $"The store folder '{path}' does not exist. Create a store with 'blobstorage init --store {path}'.");
        }

        return await OpenAsync(path, cancellationToken).ConfigureAwait(false);
    }

    internal static Task<IBlobStore> OpenAsync(string path, CancellationToken cancellationToken) =>
        new BlobStoreBuilder(path)
            .Configure(o =>
            {
                // A command is one short process: no schedule of its own, and collection only when asked (gc).
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            })
            .OpenAsync(cancellationToken);

    internal static void WriteJson<T>(CliContext context, T value) =>
        context.Console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB",
    };
}

/// <summary>Where a command writes: the console for results and progress, <see cref="Error"/> for messages.</summary>
internal sealed record CliContext(IAnsiConsole Console, TextWriter Error);

/// <summary>A failure the tool reports as a one-line message with its exit code.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
