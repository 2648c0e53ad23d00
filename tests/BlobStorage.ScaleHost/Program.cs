using System.Diagnostics;
using BlobStorage;
using BlobStorage.Abstractions;
using BlobStorage.Azure;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.ScaleHost;

// ScaleHost: one process of the multi-process tests and benchmark. Opens a store on PostgreSQL metadata and a shared
// chunk store (a folder or Azurite), runs the roles it was given concurrently, and reports on stdout (see Report).
var parsed = HostArguments.Parse(args, out var error);
if (parsed is null)
{
    await Console.Error.WriteLineAsync(error);
    await Console.Error.WriteLineAsync("usage: ScaleHost --roles writer,reader,collector,crasher --pg CONNECTION --schema NAME --root DIR (--chunks DIR | --azurite CONNECTION --azure-container NAME) [--ops N] [--seed S] [--names K] [--container C] [--grace-ms M] [--size-kb B]");
    return 2;
}

var report = new Report();
IChunkStore chunks = parsed.ChunkFolder is { } folder
    ? new FileSystemChunkStore(folder)
    : new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = parsed.Azurite, ContainerName = parsed.AzureContainer! });
try
{
    await using var store = await new BlobStoreBuilder(parsed.Root)
        .UsePostgreSqlMetadataStore(parsed.PostgreSql, parsed.Schema)
        .UseChunkStore(chunks)
        .Configure(o =>
        {
            // Small chunks and no inlining, so every blob has chunks in the shared store and overwrites leave garbage.
            o.ChunkSize = 64 * 1024;
            o.InlineThreshold = 0;
            o.GarbageCollectionGracePeriod = parsed.GracePeriod;

            // Collection runs only in the collector role, when it says.
            o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
        })
        .OpenAsync();
    _ = await store.CreateContainerIfNotExistsAsync(parsed.Container);
    report.Line("READY");

    var clock = Stopwatch.StartNew();
    var roles = new Roles(store, parsed, report);
    var results = await Task.WhenAll(parsed.Roles.Select((role, index) => Task.Run(() => roles.RunAsync(role, index))));
    report.Line(FormattableString.Invariant($"DONE {clock.Elapsed.TotalSeconds:F3}"));
    return results.All(ok => ok) ? 0 : 3;
}
catch (Exception ex)
{
    report.Line("ERROR host " + ex.GetType().Name);
    await Console.Error.WriteLineAsync(ex.ToString());
    return 3;
}
finally
{
    (chunks as IDisposable)?.Dispose();
}
