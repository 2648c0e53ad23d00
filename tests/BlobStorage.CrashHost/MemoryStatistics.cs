namespace BlobStorage.CrashHost;

/// <summary>
/// <c>CrashHost memory-statistics &lt;root&gt; [keep]</c>: in a process where SQLite has not run yet, opens a store
/// (with <c>keep</c>, after setting the AppContext switch that keeps SQLite's memory statistics), puts and reads a
/// blob, and prints the bytes SQLite counts as allocated: 0 when the store turned the statistics off.
/// </summary>
internal static class MemoryStatistics
{
    public static async Task<int> RunAsync(string root, bool keep)
    {
        if (keep) AppContext.SetSwitch("BlobStorage.Sqlite.KeepMemoryStatistics", true);
        await using (var store = await new BlobStoreBuilder(root).OpenAsync())
        {
            await store.CreateContainerAsync("stats");
            await store.UploadAsync("stats", "x", new MemoryStream(new byte[10_000]));
            await using var download = await store.DownloadAsync("stats", "x");
            await download.Content.CopyToAsync(Stream.Null);
            Console.WriteLine(FormattableString.Invariant($"memory-used {SQLitePCL.raw.sqlite3_memory_used()}"));
        }

        return 0;
    }
}
