namespace BlobStorage.Benchmarks;

/// <summary>The timed part of the first-read benchmarks: every blob read once to its end, a number of tasks at a time.</summary>
internal static class FirstReads
{
    /// <summary>Reads each of <paramref name="names"/> once, <paramref name="tasks"/> at a time, into a buffer of <paramref name="size"/>; the bytes read.</summary>
    public static async Task<long> ReadEachOnceAsync(IBlobStore store, string container, string[] names, int tasks, int size)
    {
        long total = 0;
        var next = -1;
        var workers = new Task[tasks];
        for (var t = 0; t < tasks; t++)
        {
            workers[t] = Task.Run(async () =>
            {
                var buffer = new byte[size];
                int i;
                while ((i = Interlocked.Increment(ref next)) < names.Length)
                {
                    await using var download = await store.DownloadAsync(container, names[i]);
                    int read;
                    while ((read = await download.Content.ReadAsync(buffer)) > 0) Interlocked.Add(ref total, read);
                }
            });
        }

        await Task.WhenAll(workers);
        return total;
    }
}
