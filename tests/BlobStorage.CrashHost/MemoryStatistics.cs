using Microsoft.Data.Sqlite;

namespace BlobStorage.CrashHost;

/// <summary>
/// <c>CrashHost memory-statistics &lt;root&gt; [keep|sqlite-first]</c>: opens a store, puts and reads a blob, and prints
/// the bytes SQLite counts as allocated: 0 when the store turned the statistics off. With <c>keep</c> the AppContext
/// switch that keeps them is set first; with <c>sqlite-first</c> the process runs SQLite itself before the store opens.
/// </summary>
internal static class MemoryStatistics
{
    public static async Task<int> RunAsync(string root, string? mode)
    {
        if (mode == "keep") AppContext.SetSwitch("BlobStorage.Sqlite.KeepMemoryStatistics", true);
        if (mode == "sqlite-first")
        {
            using var connection = new SqliteConnection("Data Source=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sqlite_version();";
            command.ExecuteScalar();
        }

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
