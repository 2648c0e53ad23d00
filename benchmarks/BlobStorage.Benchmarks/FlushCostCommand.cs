using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using Microsoft.Data.Sqlite;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>flush-cost [--size-kib N] [--count N] [--dir PATH]</c>: where the time of one durable put goes on this
/// disk. Each round takes fresh content and times, one after the other on one thread, every step a put pays:
/// the SHA-256 that names a single-chunk blob; the chunk file written (<see cref="BlockChunkFormat"/>, with and
/// without the preallocation the store asks for), its fsync, its rename and the fsync of its folder; a SQLite
/// commit of a blob row in WAL mode with <c>synchronous=FULL</c> (what the metadata store pays per group commit),
/// alone and with 4 KiB or 64 KiB inline, under the store's connection settings (a 4,000-page autocheckpoint, so
/// the 64 KiB rows show what checkpoints add to the mean); the hash taken before the file is written against the
/// hash taken while the disk writes the content back (Linux, sync_file_range); and, last, a whole <see cref="IBlobStore.UploadAsync(string, string, Stream, BlobUploadOptions?, CancellationToken)"/>
/// of the same size through <see cref="BlobStoreBuilder"/> defaults. The file store of <c>compare</c> pays
/// write + fsync + rename + folder fsync; the engine adds the hash and the commit. Prints medians and means.
/// </summary>
internal static class FlushCostCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sizeKib = 1024;
        var count = 200;
        var root = Path.Combine(Path.GetTempPath(), "blobstorage-flush-cost-" + Guid.NewGuid().ToString("N"));
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--size-kib": sizeKib = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--count": count = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--dir": root = Path.Combine(Path.GetFullPath(args[i + 1]), "flush-cost-" + Guid.NewGuid().ToString("N")); break;
                default:
                    Console.Error.WriteLine($"flush-cost: unknown argument '{args[i]}'; usage: flush-cost [--size-kib N] [--count N] [--dir PATH]");
                    return 2;
            }
        }

        Directory.CreateDirectory(root);
        try
        {
            await MeasureAsync(root, sizeKib * 1024, count);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        return 0;
    }

    private static async Task MeasureAsync(string root, int size, int count)
    {
        var files = PhysicalChunkFileSystem.Instance;
        var temp = Path.Combine(root, "tmp");
        var shard = Path.Combine(root, "shard");
        Directory.CreateDirectory(temp);
        Directory.CreateDirectory(shard);
        var steps = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        void Add(string step, long started) => (steps.TryGetValue(step, out var list) ? list : steps[step] = []).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        using var sqlite = new SqliteConnection($"Data Source={Path.Combine(root, "meta.db")};Pooling=False");
        sqlite.Open();
        Execute(sqlite, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 4000; PRAGMA journal_size_limit = 67108864; CREATE TABLE blobs (name TEXT PRIMARY KEY, props TEXT, chunks BLOB, inline BLOB);");
        using var insert = sqlite.CreateCommand();
        insert.CommandText = "INSERT INTO blobs VALUES ($name, $props, $chunks, $inline)";
        var nameParameter = insert.Parameters.Add("$name", SqliteType.Text);
        insert.Parameters.AddWithValue("$props", new string('p', 200));
        insert.Parameters.AddWithValue("$chunks", new byte[40]);
        var inlineParameter = insert.Parameters.Add("$inline", SqliteType.Blob);

        void Commit(string step, string name, object inline)
        {
            nameParameter.Value = name;
            inlineParameter.Value = inline;
            var started = Stopwatch.GetTimestamp();
            using (var transaction = sqlite.BeginTransaction())
            {
                insert.Transaction = transaction;
                insert.ExecuteNonQuery();
                transaction.Commit();
            }

            Add(step, started);
        }

        var content = new byte[size];
        var random = new Random(16);
        for (var round = 0; round < count; round++)
        {
            random.NextBytes(content);

            var started = Stopwatch.GetTimestamp();
            var id = new ChunkId(SHA256.HashData(content));
            Add("sha-256 of the content", started);

            foreach (var preallocate in new[] { false, true })
            {
                var suffix = preallocate ? " (preallocated)" : "";
                var path = Path.Combine(temp, Guid.NewGuid().ToString("N"));
                started = Stopwatch.GetTimestamp();
                var file = files.CreateNew(path, preallocate ? BlockChunkFormat.FileLength(size, BlockChunkFormat.DefaultBlockSize) : 0);
                BlockChunkFormat.Write(file, id, content, BlockChunkFormat.DefaultBlockSize);
                Add("chunk file written" + suffix, started);
                started = Stopwatch.GetTimestamp();
                file.Flush();
                file.Dispose();
                Add("chunk file fsync" + suffix, started);
                var target = Path.Combine(shard, id + (preallocate ? "p" : ""));
                started = Stopwatch.GetTimestamp();
                files.Move(path, target);
                Add("rename" + suffix, started);
                started = Stopwatch.GetTimestamp();
                files.FlushDirectory(shard);
                Add("folder fsync" + suffix, started);
            }

            // What overlapping the name's SHA-256 with the disk would give: today the hash comes first, then the
            // file; the alternative writes the content, starts its writeback (Linux: sync_file_range), hashes while
            // the disk works, then writes the header that holds the id and flushes.
            if (OperatingSystem.IsLinux())
            {
                var headerLength = (int)BlockChunkFormat.ContentStart(BlockChunkFormat.BlockCount(size, BlockChunkFormat.DefaultBlockSize));
                var header = new byte[headerLength];
                started = Stopwatch.GetTimestamp();
                id = new ChunkId(SHA256.HashData(content));
                using (var handle = File.OpenHandle(Path.Combine(temp, Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose))
                {
                    RandomAccess.Write(handle, content, headerLength);
                    id.WriteTo(header);
                    RandomAccess.Write(handle, header, 0);
                    RandomAccess.FlushToDisk(handle);
                }

                Add("serial: sha-256, write, fsync", started);
                started = Stopwatch.GetTimestamp();
                using (var handle = File.OpenHandle(Path.Combine(temp, Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose))
                {
                    RandomAccess.Write(handle, content, headerLength);
                    if (SyncFileRange(handle, headerLength, size, SyncFileRangeWrite) != 0) throw new IOException("sync_file_range failed.");
                    id = new ChunkId(SHA256.HashData(content));
                    id.WriteTo(header);
                    RandomAccess.Write(handle, header, 0);
                    RandomAccess.FlushToDisk(handle);
                }

                Add("overlapped: write, writeback, sha-256, fsync", started);
            }

            Commit("sqlite WAL commit, one blob row", "b" + round.ToString(CultureInfo.InvariantCulture), DBNull.Value);
            Commit("sqlite WAL commit, row with 4 KiB inline", "i" + round.ToString(CultureInfo.InvariantCulture), content.AsSpan(0, Math.Min(size, 4096)).ToArray());
            for (var i = 0; i < 4; i++)
            {
                // Four for each round above: the WAL fills and checkpoints (every 4,000 pages, as the store's connections do) within the run.
                Commit("sqlite WAL commit, row with 64 KiB inline", string.Create(CultureInfo.InvariantCulture, $"s{round}-{i}"), content.AsSpan(0, Math.Min(size, 65536)).ToArray());
            }
        }

        // The engine itself, same size, one put at a time.
        await using (var store = await new BlobStoreBuilder(Path.Combine(root, "store")).OpenAsync())
        {
            await store.CreateContainerAsync("flush");
            // The first tenth warms up (JIT tiers, connections, pool threads) and is left out of both figures.
            var warmUp = count / 10;
            using var self = Process.GetCurrentProcess();
            var userBefore = TimeSpan.Zero;
            var systemBefore = TimeSpan.Zero;
            for (var round = -warmUp; round < count; round++)
            {
                if (round == 0)
                {
                    self.Refresh();
                    (userBefore, systemBefore) = (self.UserProcessorTime, self.PrivilegedProcessorTime);
                }

                // New content for every put (a stored chunk would not be written again), at the cost of 8 bytes, not a refill.
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(content, round + warmUp);
                using var stream = new MemoryStream(content, writable: false);
                var started = Stopwatch.GetTimestamp();
                await store.UploadAsync("flush", "b" + (round + warmUp).ToString(CultureInfo.InvariantCulture), stream);
                if (round >= 0) Add("BlobStore.UploadAsync, whole put", started);
            }

            // Every thread's CPU (this one, the pool's, the flush threads'), so what a put costs the machine besides waiting.
            self.Refresh();
            steps["UploadAsync: user CPU of the process per put"] = [(self.UserProcessorTime - userBefore).TotalMilliseconds / count];
            steps["UploadAsync: kernel CPU of the process per put"] = [(self.PrivilegedProcessorTime - systemBefore).TotalMilliseconds / count];
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"flush-cost: {count} rounds of {size / 1024} KiB in {root}"));
        Console.WriteLine($"{"step",-44} {"p50 ms",8} {"mean ms",8} {"p90 ms",8} {"max ms",8}");
        foreach (var (step, times) in steps)
        {
            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step,-44} {times[times.Count / 2],8:F3} {times.Average(),8:F3} {times[times.Count * 9 / 10],8:F3} {times[^1],8:F3}"));
        }
    }

    private const uint SyncFileRangeWrite = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static extern int SyncFileRange(Microsoft.Win32.SafeHandles.SafeFileHandle fd, long offset, long count, uint flags);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
