using System.CommandLine;
using BlobStorage.Abstractions;
using Spectre.Console;

namespace BlobStorage.Cli;

internal static partial class CliApp
{
    private static readonly Argument<string> ContainerArgument = new("container") { Description = "The container." };

    private static Option<bool> QuietOption() => new("--quiet", "-q") { Description = "No progress bars." };

    private static Command ListCommand(CliContext context)
    {
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Only names that start with this." };
        var delimiter = new Option<string?>("--delimiter", "-d") { Description = "Group names on this (such as /) into common prefixes, like folders." };
        var longFormat = new Option<bool>("--long", "-l") { Description = "Size, modified time, content type and ETag too." };
        var command = new Command("ls", "Lists the blobs of a container.") { ContainerArgument, prefix, delimiter, longFormat, Json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var container = parsed.GetValue(ContainerArgument)!;
            var blobs = new List<BlobProperties>();
            var prefixes = new List<string>();
            string? token = null;
            do
            {
                var page = await store.ListAsync(container, new BlobListOptions { Prefix = parsed.GetValue(prefix), Delimiter = parsed.GetValue(delimiter), ContinuationToken = token }, ct).ConfigureAwait(false);
                blobs.AddRange(page.Blobs);
                prefixes.AddRange(page.CommonPrefixes);
                token = page.ContinuationToken;
            }
            while (token is not null);

            if (parsed.GetValue(Json))
            {
                WriteJson(context, new { Prefixes = prefixes, Blobs = blobs.Select(b => new { b.Name, b.Size, b.ContentType, b.ETag, b.LastModified, StorageClass = b.StorageClass.ToString() }) });
                return ExitCodes.Success;
            }

            var writer = context.Console.Profile.Out.Writer;
            foreach (var p in prefixes) writer.WriteLine(parsed.GetValue(longFormat) ? $"{"DIR",12}  {"",20}  {p}" : p);
            foreach (var blob in blobs)
            {
                writer.WriteLine(parsed.GetValue(longFormat)
                    ? $"{blob.Size,12}  {blob.LastModified.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {blob.Name}  {blob.ContentType}  {blob.ETag}"
                    : blob.Name);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command StatCommand(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The blob." };
        var command = new Command("stat", "Shows a blob's properties, tags and metadata.") { ContainerArgument, name, Json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var p = await store.GetPropertiesAsync(parsed.GetValue(ContainerArgument)!, parsed.GetValue(name)!, ct).ConfigureAwait(false);
            if (parsed.GetValue(Json))
            {
                WriteJson(context, new { p.Container, p.Name, p.VersionId, p.Size, p.ContentType, p.ETag, p.ContentHash, StorageClass = p.StorageClass.ToString(), p.CreatedOn, p.LastModified, p.AccessCount, p.LastAccessedOn, p.Tags, p.Metadata });
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("Property", "Value");
            void Row(string key, string? value) => table.AddRow(Markup.Escape(key), Markup.Escape(value ?? ""));
            Row("Container", p.Container);
            Row("Name", p.Name);
            Row("Size", $"{p.Size} ({Size(p.Size)})");
            Row("Content type", p.ContentType);
            Row("ETag", p.ETag);
            Row("SHA-256", p.ContentHash);
            Row("Version", p.VersionId);
            Row("Storage class", p.StorageClass.ToString());
            Row("Created", p.CreatedOn.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
            Row("Modified", p.LastModified.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
            Row("Reads", p.AccessCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var tag in p.Tags) Row("tag " + tag.Key, tag.Value);
            foreach (var entry in p.Metadata) Row("metadata " + entry.Key, entry.Value);
            context.Console.Write(table);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command RemoveCommand(CliContext context)
    {
        var names = new Argument<string[]>("names") { Description = "Blobs to delete.", Arity = ArgumentArity.ZeroOrMore };
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Delete every blob whose name starts with this." };
        var command = new Command("rm", "Deletes blobs, by name or by prefix.") { ContainerArgument, names, prefix };
        command.SetAction(async (parsed, ct) =>
        {
            var container = parsed.GetValue(ContainerArgument)!;
            var targets = parsed.GetValue(names) ?? [];
            var byPrefix = parsed.GetValue(prefix);
            if (targets.Length == 0 && byPrefix is null) throw new CliException(ExitCodes.Usage, "Name the blobs to delete, or give --prefix.");
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var all = targets.ToList();
            if (byPrefix is not null)
            {
                await foreach (var blob in store.ListAllAsync(container, byPrefix, ct).ConfigureAwait(false)) all.Add(blob.Name);
            }

            var missing = 0;
            foreach (var name in all)
            {
                if (await store.DeleteIfExistsAsync(container, name, cancellationToken: ct).ConfigureAwait(false))
                {
                    context.Console.MarkupLineInterpolated($"deleted {name}");
                }
                else
                {
                    missing++;
                    await context.Error.WriteLineAsync($"error: blob '{name}' does not exist in container '{container}'.").ConfigureAwait(false);
                }
            }

            return missing > 0 ? ExitCodes.NotFound : ExitCodes.Success;
        });
        return command;
    }

    private static Command PutCommand(CliContext context)
    {
        var paths = new Argument<string[]>("paths") { Description = "Files and folders to upload; a folder is uploaded whole, recursively.", Arity = ArgumentArity.OneOrMore };
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Put this before each blob name (such as photos/)." };
        var parallel = new Option<int>("--parallel") { Description = "Files uploaded at once (1-64).", DefaultValueFactory = _ => 4 };
        var quiet = QuietOption();
        var command = new Command("put", "Uploads files and folders as blobs, in parallel, with a progress bar per file and in total.") { ContainerArgument, paths, prefix, parallel, quiet, Json };
        command.SetAction(async (parsed, ct) =>
        {
            var container = parsed.GetValue(ContainerArgument)!;
            var degree = parsed.GetValue(parallel);
            if (degree is < 1 or > 64) throw new CliException(ExitCodes.Usage, $"--parallel must be between 1 and 64; it is {degree}.");

            // Every path is checked before anything is written.
            var files = new List<(string File, string Name)>();
            foreach (var path in parsed.GetValue(paths)!)
            {
                var full = Path.GetFullPath(path);
                if (File.Exists(full))
                {
                    files.Add((full, parsed.GetValue(prefix) + Path.GetFileName(full)));
                }
                else if (Directory.Exists(full))
                {
                    foreach (var file in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    {
                        files.Add((file, parsed.GetValue(prefix) + Path.GetRelativePath(full, file).Replace(Path.DirectorySeparatorChar, '/')));
                    }
                }
                else
                {
                    throw new CliException(ExitCodes.NotFound, $"'{path}' does not exist; nothing was uploaded.");
                }
            }

            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            await store.GetContainerAsync(container, ct).ConfigureAwait(false);

            // ExistsAsync checks each name against the naming rules, so a bad one stops the command before any upload.
            foreach (var (_, name) in files) await store.ExistsAsync(container, name, ct).ConfigureAwait(false);

            var uploaded = new System.Collections.Concurrent.ConcurrentBag<BlobProperties>();
            async Task UploadAsync((string File, string Name) item, IProgress<long>? progress, CancellationToken token)
            {
                await using var stream = new FileStream(item.File, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
                uploaded.Add(await store.UploadAsync(container, item.Name, stream, new BlobUploadOptions { Progress = progress, ContentType = ContentTypes.Of(item.File) }, token).ConfigureAwait(false));
            }

            var total = files.Sum(f => new FileInfo(f.File).Length);
            if (parsed.GetValue(quiet) || parsed.GetValue(Json))
            {
                await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = ct }, (item, token) => new ValueTask(UploadAsync(item, null, token))).ConfigureAwait(false);
            }
            else
            {
                await Bars(context).StartAsync(async progress =>
                {
                    var all = progress.AddTask($"[bold]{files.Count} file(s)[/]", maxValue: Math.Max(total, 1));
                    await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = ct }, async (item, token) =>
                    {
                        var task = progress.AddTask(Markup.Escape(item.Name), maxValue: Math.Max(new FileInfo(item.File).Length, 1));
                        await UploadAsync(item, new Reporter(task, all), token).ConfigureAwait(false);
                        task.Value = task.MaxValue;
                        task.StopTask();
                    }).ConfigureAwait(false);
                    all.Value = all.MaxValue;
                }).ConfigureAwait(false);
            }

            if (parsed.GetValue(Json)) WriteJson(context, uploaded.OrderBy(b => b.Name, StringComparer.Ordinal).Select(b => new { b.Name, b.Size, b.ETag, b.ContentHash }));
            else context.Console.MarkupLineInterpolated($"Uploaded {files.Count} file(s), {Size(total)}, to [bold]{container}[/].");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command GetCommand(CliContext context)
    {
        var source = new Argument<string>("name") { Description = "A blob, or with --prefix a name prefix (empty for every blob)." };
        var destination = new Argument<string>("destination") { Description = "A file (one blob) or a folder (the blob, or every blob of the prefix, under its name)." };
        var byPrefix = new Option<bool>("--prefix", "-p") { Description = "Download every blob whose name starts with the name given, into the destination folder." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace files that exist." };
        var parallel = new Option<int>("--parallel") { Description = "Blobs downloaded at once (1-64).", DefaultValueFactory = _ => 4 };
        var quiet = QuietOption();
        var command = new Command("get", "Downloads blobs to files, with progress.") { ContainerArgument, source, destination, byPrefix, overwrite, parallel, quiet };
        command.SetAction(async (parsed, ct) =>
        {
            var container = parsed.GetValue(ContainerArgument)!;
            var name = parsed.GetValue(source)!;
            var target = Path.GetFullPath(parsed.GetValue(destination)!);
            var degree = parsed.GetValue(parallel);
            if (degree is < 1 or > 64) throw new CliException(ExitCodes.Usage, $"--parallel must be between 1 and 64; it is {degree}.");
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);

            var items = new List<(BlobProperties Blob, string File)>();
            if (parsed.GetValue(byPrefix))
            {
                // Blob names cannot hold '..', a leading '/' or a backslash, so each lands below the destination.
                await foreach (var blob in store.ListAllAsync(container, name, ct).ConfigureAwait(false))
                {
                    items.Add((blob, Path.Combine(target, blob.Name.Replace('/', Path.DirectorySeparatorChar))));
                }
            }
            else
            {
                var blob = await store.GetPropertiesAsync(container, name, ct).ConfigureAwait(false);
                items.Add((blob, Directory.Exists(target) ? Path.Combine(target, blob.Name[(blob.Name.LastIndexOf('/') + 1)..]) : target));
            }

            if (!parsed.GetValue(overwrite) && items.FirstOrDefault(i => File.Exists(i.File)) is { File: { } existing })
            {
                throw new CliException(ExitCodes.Refused, $"'{existing}' exists; pass --overwrite to replace it. Nothing was downloaded.");
            }

            async Task DownloadAsync((BlobProperties Blob, string File) item, IProgress<long>? progress, CancellationToken token)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(item.File)!);
                var temp = item.File + ".blobstorage-partial";
                await using (var download = await store.DownloadAsync(container, item.Blob.Name, new BlobDownloadOptions { Progress = progress }, token).ConfigureAwait(false))
                await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
                {
                    await download.Content.CopyToAsync(file, token).ConfigureAwait(false);
                }

                File.Move(temp, item.File, overwrite: true);
            }

            var total = items.Sum(i => i.Blob.Size);
            if (parsed.GetValue(quiet))
            {
                await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = ct }, (item, token) => new ValueTask(DownloadAsync(item, null, token))).ConfigureAwait(false);
            }
            else
            {
                await Bars(context).StartAsync(async progress =>
                {
                    var all = progress.AddTask($"[bold]{items.Count} blob(s)[/]", maxValue: Math.Max(total, 1));
                    await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = ct }, async (item, token) =>
                    {
                        var task = progress.AddTask(Markup.Escape(item.Blob.Name), maxValue: Math.Max(item.Blob.Size, 1));
                        await DownloadAsync(item, new Reporter(task, all), token).ConfigureAwait(false);
                        task.Value = task.MaxValue;
                        task.StopTask();
                    }).ConfigureAwait(false);
                    all.Value = all.MaxValue;
                }).ConfigureAwait(false);
            }

            context.Console.MarkupLineInterpolated($"Downloaded {items.Count} blob(s), {Size(total)}, to [bold]{target}[/].");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A progress display: a bar per file and one in total, each with its percentage, speed and time left.</summary>
    private static Progress Bars(CliContext context) =>
        context.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn());

    /// <summary>Moves a file's bar to the bytes reported, and the total bar by the difference.</summary>
    private sealed class Reporter(ProgressTask file, ProgressTask total) : IProgress<long>
    {
        private long _last;

        public void Report(long value)
        {
            var delta = value - Interlocked.Exchange(ref _last, value);
            file.Value = value;
            total.Increment(delta);
        }
    }
}
