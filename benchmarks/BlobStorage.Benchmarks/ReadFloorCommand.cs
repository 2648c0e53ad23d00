using System.Diagnostics;
using System.Globalization;
using BlobStorage.Chunks.FileSystem;
using Microsoft.Win32.SafeHandles;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>read-floor [--sizes 64k,1m,64m,1g] [--tasks 1,8] [--seconds S] [--dir PATH]</c>: the most a store that checks
/// every block can reach against <c>compare</c>'s file store on this machine, with no metadata at all. For each size it
/// writes flushed files (in the page cache, as blobs just put are), then reads them for a fixed time on each number of
/// threads in three ways: as the file store reads (open, 1 MiB per call, close, nothing checked); as the chunk store
/// reads at the least (open, 256 KiB per call, then each 64 KiB block's <see cref="BlockChecksum"/>, close); and, for
/// sizes of at least 512 KiB, the same with each file's second half read and checked on a second thread (the copy that
/// runs a large download's odd pieces beside the caller). The ratio of a verified way to the file store is a ceiling:
/// a store that looks its blob up, pins it and copies it out cannot do better in that cell.
/// </summary>
internal static class ReadFloorCommand
{
    private const int FileStoreCall = 1024 * 1024;
    private const int Block = BlockChunkFormat.DefaultBlockSize;
    private const int Batch = BlockChunkFormat.ReadBatchSize;

    public static int Run(string[] args)
    {
        long[] sizes = [64 * 1024, 1024 * 1024, 64L * 1024 * 1024, 1024L * 1024 * 1024];
        int[] taskCounts = [1, 8];
        var seconds = 3.0;
        var root = Path.Combine(Path.GetTempPath(), "read-floor-" + Guid.NewGuid().ToString("N"));
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--sizes": sizes = [.. args[i + 1].Split(',').Select(ParseSize)]; break;
                case "--tasks": taskCounts = [.. args[i + 1].Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))]; break;
                case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--dir": root = Path.Combine(Path.GetFullPath(args[i + 1]), "read-floor-" + Guid.NewGuid().ToString("N")); break;
                default:
                    Console.Error.WriteLine($"read-floor: unknown argument '{args[i]}'; usage: read-floor [--sizes 64k,1m,64m,1g] [--tasks 1,8] [--seconds S] [--dir PATH]");
                    return 2;
            }
        }

        if (sizes.Any(s => s < Block || s % Block != 0))
        {
            Console.Error.WriteLine($"read-floor: every size must be a whole number of {Block / 1024} KiB blocks.");
            return 2;
        }

        Directory.CreateDirectory(root);
        try
        {
            Console.WriteLine($"read-floor on {Environment.ProcessorCount} cores, {seconds:F1} s a cell; ratios to the file store's reads in the same cell");
            Console.WriteLine("| size | threads | file store reads/s | verified reads/s | ratio | verified, halves on 2 threads, reads/s | ratio |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var size in sizes)
            {
                var paths = WriteFiles(root, size);
                foreach (var tasks in taskCounts)
                {
                    // Each way once untimed (page cache, JIT), then timed.
                    var ways = new List<(string Name, Func<string, byte[], byte[], long> Read)>
                    {
                        ("file", (path, buffer, _) => ReadAsFileStore(path, size, buffer)),
                        ("verified", (path, buffer, _) => ReadVerified(path, 0, size, buffer)),
                    };
                    if (size >= 512 * 1024) ways.Add(("halves", ReadVerifiedInHalves));
                    var rates = new Dictionary<string, double>();
                    foreach (var (name, read) in ways)
                    {
                        RunFor(paths, tasks, TimeSpan.FromSeconds(Math.Min(1, seconds / 3)), read);
                        rates[name] = RunFor(paths, tasks, TimeSpan.FromSeconds(seconds), read);
                    }

                    var file = rates["file"];
                    var halves = rates.TryGetValue("halves", out var h)
                        ? string.Create(CultureInfo.InvariantCulture, $"{h:N0} | {h / file:F2}x")
                        : "- | -";
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"| {Label(size)} | {tasks} | {file:N0} | {rates["verified"]:N0} | {rates["verified"] / file:F2}x | {halves} |"));
                }

                foreach (var path in paths) File.Delete(path);
            }

            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Left for the temporary folder's owner to clean.
            }
        }
    }

    /// <summary>Enough flushed files of <paramref name="size"/> that reads go round many (512 MiB, at least 2, at most 2,000).</summary>
    private static List<string> WriteFiles(string root, long size)
    {
        var count = (int)Math.Clamp(512L * 1024 * 1024 / size, 2, 2000);
        var slice = new byte[(int)Math.Min(size, 1024 * 1024)];
        var paths = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(root, string.Create(CultureInfo.InvariantCulture, $"{size}-{i:D4}"));
            using (var writer = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                for (long offset = 0; offset < size; offset += slice.Length)
                {
                    GeneratedStream.Fill(seed: (ulong)i, position: offset, slice);
                    writer.Write(slice);
                }

                writer.Flush(flushToDisk: true);
            }

            paths.Add(path);
        }

        return paths;
    }

    /// <summary>Reads on <paramref name="threads"/> threads, each going round the files from its own place, for <paramref name="duration"/>; reads a second.</summary>
    private static double RunFor(List<string> paths, int threads, TimeSpan duration, Func<string, byte[], byte[], long> read)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var reads = new long[threads];
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var buffer = GC.AllocateUninitializedArray<byte>(FileStoreCall, pinned: true);
            var second = GC.AllocateUninitializedArray<byte>(FileStoreCall, pinned: true);
            var next = t * paths.Count / threads;
            long done = 0;
            while (Stopwatch.GetTimestamp() < end)
            {
                read(paths[next], buffer, second);
                next = (next + 1) % paths.Count;
                done++;
            }

            reads[t] = done;
        })).ToArray();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();
        return reads.Sum() / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Open, 1 MiB per call, close; nothing checked.</summary>
    private static long ReadAsFileStore(string path, long size, byte[] buffer)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        long offset = 0;
        int read;
        while ((read = RandomAccess.Read(file, buffer, offset)) > 0) offset += read;
        return offset == size ? offset : throw new InvalidDataException($"{path}: read {offset} of {size} bytes.");
    }

    /// <summary>Open, then <paramref name="length"/> bytes from <paramref name="start"/> 256 KiB per call, each 64 KiB block checked after its call; close.</summary>
    private static long ReadVerified(string path, long start, long length, byte[] buffer)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        return ReadVerified(file, start, length, buffer);
    }

    private static long ReadVerified(SafeFileHandle file, long start, long length, byte[] buffer)
    {
        ulong checksums = 0;
        for (var offset = start; offset < start + length;)
        {
            var call = buffer.AsSpan(0, (int)Math.Min(Batch, start + length - offset));
            var read = RandomAccess.Read(file, call, offset);
            if (read != call.Length) throw new InvalidDataException($"Short read at {offset}: {read} bytes.");
            for (var block = 0; block < read; block += Block) checksums ^= BlockChecksum.Compute(call.Slice(block, Math.Min(Block, read - block)));
            offset += read;
        }

        return length + (long)(checksums & 1);
    }

    /// <summary>The first half read and checked on this thread, the second on a pool thread at the same time.</summary>
    private static long ReadVerifiedInHalves(string path, byte[] buffer, byte[] second)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        var size = RandomAccess.GetLength(file);
        var half = size / 2 / Block * Block;
        var other = Task.Run(() => ReadVerified(file, half, size - half, second));
        var first = ReadVerified(file, 0, half, buffer);
        return first + other.GetAwaiter().GetResult();
    }

    private static long ParseSize(string text)
    {
        var unit = char.ToLowerInvariant(text[^1]);
        var number = long.Parse(char.IsDigit(unit) ? text : text[..^1], CultureInfo.InvariantCulture);
        return unit switch
        {
            'k' => number * 1024,
            'm' => number * 1024 * 1024,
            'g' => number * 1024 * 1024 * 1024,
            _ => number,
        };
    }

    private static string Label(long size) =>
        size >= 1L << 30 ? $"{size >> 30} GiB" : size >= 1L << 20 ? $"{size >> 20} MiB" : $"{size >> 10} KiB";
}
