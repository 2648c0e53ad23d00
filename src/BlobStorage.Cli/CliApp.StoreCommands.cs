using System.CommandLine;
using BlobStorage.Abstractions;
using Spectre.Console;

namespace BlobStorage.Cli;

internal static partial class CliApp
{
    private static Command InitCommand(CliContext context)
    {
        var command = new Command("init", "Creates a new, empty store in the --store folder (which must not hold anything yet).");
        command.SetAction(async (parsed, ct) =>
        {
            var path = Path.GetFullPath(parsed.GetValue(Store)!);
            if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
            {
                throw new CliException(
                    File.Exists(Path.Combine(path, "metadata.db")) ? ExitCodes.Refused : ExitCodes.Refused,
                    File.Exists(Path.Combine(path, "metadata.db")) ? $"'{path}' already holds a store." : $"'{path}' is not empty; a new store needs an empty or new folder.");
            }

            await using var store = await OpenAsync(path, ct).ConfigureAwait(false);
            context.Console.MarkupLineInterpolated($"Created an empty store in [bold]{path}[/].");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ContainersCommand(CliContext context)
    {
        var list = new Command("list", "Lists the containers.") { Json };
        list.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var containers = new List<ContainerProperties>();
            await foreach (var container in store.ListContainersAsync(cancellationToken: ct).ConfigureAwait(false)) containers.Add(container);
            if (parsed.GetValue(Json))
            {
                WriteJson(context, containers.Select(c => new { c.Name, DefaultStorageClass = c.DefaultStorageClass.ToString(), ReplicationStrategy = c.ReplicationStrategy.ToString(), AccessPolicy = c.AccessPolicy.ToString(), c.CreatedOn }));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("Name", "Access", "Storage class", "Replication", "Created");
            foreach (var c in containers) table.AddRow(Markup.Escape(c.Name), c.AccessPolicy.ToString(), c.DefaultStorageClass.ToString(), c.ReplicationStrategy.ToString(), c.CreatedOn.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
            context.Console.Write(table);
            return ExitCodes.Success;
        });

        var name = new Argument<string>("name") { Description = "The container's name (3-63 lowercase letters, digits and hyphens)." };
        var isPublic = new Option<bool>("--public") { Description = "Blobs are readable without a signature over HTTP." };
        var ifNotExists = new Option<bool>("--if-not-exists") { Description = "Succeed when it exists already." };
        var create = new Command("create", "Creates a container.") { name, isPublic, ifNotExists };
        create.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var options = new ContainerOptions { AccessPolicy = parsed.GetValue(isPublic) ? AccessPolicy.Public : AccessPolicy.Private };
            var containerName = parsed.GetValue(name)!;
            if (parsed.GetValue(ifNotExists))
            {
                var created = await store.CreateContainerIfNotExistsAsync(containerName, options, ct).ConfigureAwait(false);
                context.Console.MarkupLineInterpolated($"{(created is null ? "Container exists" : "Created container")} [bold]{containerName}[/].");
            }
            else
            {
                await store.CreateContainerAsync(containerName, options, ct).ConfigureAwait(false);
                context.Console.MarkupLineInterpolated($"Created container [bold]{containerName}[/].");
            }

            return ExitCodes.Success;
        });

        var deleteName = new Argument<string>("name") { Description = "The container's name." };
        var force = new Option<bool>("--force", "-f") { Description = "Delete its blobs too; without it, only an empty container is deleted." };
        var delete = new Command("delete", "Deletes a container.") { deleteName, force };
        delete.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            await store.DeleteContainerAsync(parsed.GetValue(deleteName)!, parsed.GetValue(force), ct).ConfigureAwait(false);
            context.Console.MarkupLineInterpolated($"Deleted container [bold]{parsed.GetValue(deleteName)}[/].");
            return ExitCodes.Success;
        });

        return new Command("containers", "Lists, creates and deletes containers.") { list, create, delete };
    }

    private static Command StatsCommand(CliContext context)
    {
        var command = new Command("stats", "Shows the store's totals and each container's.") { Json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var stats = await store.GetStatisticsAsync(ct).ConfigureAwait(false);
            if (parsed.GetValue(Json))
            {
                WriteJson(context, stats);
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("", "Value");
            table.AddRow("Blobs", stats.TotalBlobs.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("Bytes (logical)", Size(stats.TotalBytes));
            table.AddRow("Bytes stored (deduplicated)", Size(stats.StoredBytes));
            table.AddRow("Chunks", stats.ChunkCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("Reads / writes / deletes", $"{stats.ReadOperations} / {stats.WriteOperations} / {stats.DeleteOperations}");
            context.Console.Write(table);
            if (stats.Containers.Count > 0)
            {
                var containers = new Table().AddColumns("Container", "Blobs", "Bytes");
                foreach (var c in stats.Containers) containers.AddRow(Markup.Escape(c.Name), c.BlobCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), Size(c.TotalBytes));
                context.Console.Write(containers);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command VerifyCommand(CliContext context)
    {
        var content = new Option<bool>("--content") { Description = "Read every chunk back and check its hash (slow); without it, only that each exists." };
        var command = new Command("verify", "Checks that metadata and chunks agree; exit code 4 when they do not.") { content, Json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var report = await store.VerifyAsync(parsed.GetValue(content), ct).ConfigureAwait(false);
            if (parsed.GetValue(Json))
            {
                WriteJson(context, new
                {
                    report.IsClean,
                    report.BlobsChecked,
                    report.ChunksChecked,
                    MissingChunks = report.MissingChunks.Select(m => new { m.Container, m.Name, Chunk = m.Chunk.ToString(), m.Reason }),
                    UnreferencedChunks = report.UnreferencedChunks.Select(c => c.ToString()),
                    ReferenceCountMismatches = report.ReferenceCountMismatches.Select(c => c.ToString()),
                    report.ChunksAwaitingCollection,
                    report.OrphansWithinGracePeriod,
                });
            }
            else
            {
                context.Console.MarkupLineInterpolated($"Checked {report.BlobsChecked} blob(s) and {report.ChunksChecked} chunk file(s).");
                foreach (var missing in report.MissingChunks) context.Console.MarkupLineInterpolated($"[red]damaged[/] {missing.Container}/{missing.Name}: chunk {missing.Chunk.ToString()} {missing.Reason}");
                foreach (var chunk in report.UnreferencedChunks) context.Console.MarkupLineInterpolated($"[yellow]unreferenced[/] chunk {chunk.ToString()}");
                foreach (var chunk in report.ReferenceCountMismatches) context.Console.MarkupLineInterpolated($"[yellow]wrong reference count[/] chunk {chunk.ToString()}");
                context.Console.MarkupLine(report.IsClean ? "[green]The store is consistent.[/]" : "[red]The store has problems.[/]");
            }

            return report.IsClean ? ExitCodes.Success : ExitCodes.VerifyFailed;
        });
        return command;
    }

    private static Command GcCommand(CliContext context)
    {
        var command = new Command("gc", "Runs a maintenance pass now: collects chunks unreferenced for longer than the grace period, aborts stale uploads.") { Json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var report = await store.RunMaintenanceAsync(ct).ConfigureAwait(false);
            if (parsed.GetValue(Json)) WriteJson(context, report);
            else context.Console.MarkupLineInterpolated($"Collected {report.ChunksCollected} chunk(s), {Size(report.BytesReclaimed)}; removed {report.OrphansRemoved} orphan(s); aborted {report.MultipartUploadsAborted} upload(s).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BackupCommand(CliContext context)
    {
        var destination = new Argument<string>("destination") { Description = "An empty or new folder, or an earlier backup of this store (then only new chunks are copied)." };
        var command = new Command("backup", "Backs the store up online into a folder that is itself a store.") { destination, Json };
        command.SetAction(async (parsed, ct) =>
        {
            await using var store = await OpenStoreAsync(parsed, ct).ConfigureAwait(false);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var report = await store.BackupAsync(parsed.GetValue(destination)!, ct).ConfigureAwait(false);
            WriteBackup(context, parsed, report, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command RestoreCommand(CliContext context)
    {
        var backup = new Argument<string>("backup") { Description = "The backup folder (made by 'blobstorage backup')." };
        var command = new Command("restore", "Restores a backup into the --store folder, which must be new, empty, or this store (stop every process using it first).") { backup, Json };
        command.SetAction(async (parsed, ct) =>
        {
            var from = Path.GetFullPath(parsed.GetValue(backup)!);
            if (!File.Exists(Path.Combine(from, "metadata.db")))
            {
                throw new CliException(ExitCodes.NotFound, $"'{from}' is not a backup (it holds no metadata.db).");
            }

            // A restore is a backup of the backup: the same checks, links or copies, and the same atomic swap of the metadata.
            await using var store = await OpenAsync(from, ct).ConfigureAwait(false);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var report = await store.BackupAsync(parsed.GetValue(Store)!, ct).ConfigureAwait(false);
            WriteBackup(context, parsed, report, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteBackup(CliContext context, ParseResult parsed, BackupReport report, TimeSpan took)
    {
        if (parsed.GetValue(Json))
        {
            WriteJson(context, new { report.Destination, report.StoreId, report.Incremental, report.Blobs, report.Chunks, report.ChunksLinked, report.ChunksCopied, report.ChunksAlreadyPresent, report.ChunksRemoved, report.BytesCopied, Seconds = took.TotalSeconds });
            return;
        }

        context.Console.MarkupLineInterpolated(
            $"{(report.Incremental ? "Incremental backup" : "Backup")} of {report.Blobs} blob(s) into [bold]{report.Destination}[/] in {took.TotalSeconds:0.00} s: {report.ChunksCopied} chunk(s) copied, {report.ChunksLinked} linked, {report.ChunksAlreadyPresent} already there, {report.ChunksRemoved} removed; {Size(report.BytesCopied)} copied.");
    }
}
