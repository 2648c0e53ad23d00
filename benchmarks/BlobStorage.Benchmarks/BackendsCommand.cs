using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Azure.Storage.Blobs;
using BlobStorage.Abstractions;
using BlobStorage.Azure;
using BlobStorage.S3;
using Npgsql;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>backends [--count N] [--rounds R] [--azurite CONN] [--s3 URL] [--pg CONN] [--process-ops M] [--scalehost DLL] [--dir PATH]</c>:
/// 1 MiB uploads and downloads through <see cref="BlobStoreBuilder"/> on each metadata + chunk backend, in the same run:
/// SQLite + folder (the baseline), SQLite + Azurite, SQLite + an S3 server (s3rver), and PostgreSQL (a schema of its own
/// per round, dropped after) + folder, + Azurite, + s3rver. Each round opens every backend afresh in turn, uploads N distinct
/// 1 MiB blobs one after another, then downloads each; it prints MB/s (10^6 bytes) of each direction, the median over the
/// rounds, and its ratio to the baseline. A backend whose server does not answer is skipped with a message.
/// Add a backend to <see cref="Backends"/> to measure it beside these. Then the multi-process workload of the scale-out
/// tests in three processes against one process doing the same work (see <see cref="MultiProcessWorkload"/>).
/// </summary>
public static class BackendsCommand
{
    private const int BlobSize = 1024 * 1024;

    /// <summary>A backend: its name, and how to open a store on it in a folder (returning what to clean up after).</summary>
    private sealed record Backend(string Name, Func<string, Task<(BlobStoreBuilder Builder, Func<Task> CleanUp)?>> Open);

    private static List<Backend> Backends(string azurite, Uri s3, string postgreSql) =>
    [
        new("SQLite + folder", root => Task.FromResult<(BlobStoreBuilder, Func<Task>)?>((new BlobStoreBuilder(root), () => Task.CompletedTask))),
        new("SQLite + Azurite", root => WithChunksAsync(new BlobStoreBuilder(root), "SQLite + Azurite", () => AzureChunksAsync(azurite))),
        new("SQLite + s3rver", root => WithChunksAsync(new BlobStoreBuilder(root), "SQLite + s3rver", () => S3ChunksAsync(s3))),
        new("PostgreSQL + folder", root => WithPostgreSqlAsync(root, postgreSql, "PostgreSQL + folder", null)),
        new("PostgreSQL + Azurite", root => WithPostgreSqlAsync(root, postgreSql, "PostgreSQL + Azurite", () => AzureChunksAsync(azurite))),
        new("PostgreSQL + s3rver", root => WithPostgreSqlAsync(root, postgreSql, "PostgreSQL + s3rver", () => S3ChunksAsync(s3))),
    ];

    /// <summary>A chunk store in a new container or bucket, and how to delete it; an exception when the server does not answer.</summary>
    private delegate Task<(IChunkStore Store, Func<Task> CleanUp)> ChunkFactory();

    private static async Task<(BlobStoreBuilder, Func<Task>)?> WithChunksAsync(BlobStoreBuilder builder, string name, ChunkFactory chunks)
    {
        try
        {
            var (store, cleanUp) = await chunks();
            return (builder.UseChunkStore(store), cleanUp);
        }
        catch (Exception ex) when (ex is global::Azure.RequestFailedException or HttpRequestException or AggregateException or AmazonServiceException or AmazonClientException)
        {
            Console.WriteLine($"  {name} skipped: {ex.Message.Split('\n')[0]}");
            return null;
        }
    }

    private static async Task<(BlobStoreBuilder, Func<Task>)?> WithPostgreSqlAsync(string root, string postgreSql, string name, ChunkFactory? chunks)
    {
        var schema = "bench_" + Guid.NewGuid().ToString("N")[..16];
        if (!await PostgreSqlAsync(postgreSql, $"CREATE SCHEMA \"{schema}\";", name)) return null;
        async Task DropSchemaAsync() => await PostgreSqlAsync(postgreSql, $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE;", name);
        var builder = new BlobStoreBuilder(root).UsePostgreSqlMetadataStore(postgreSql, schema);
        if (chunks is null) return (builder, DropSchemaAsync);
        var withChunks = await WithChunksAsync(builder, name, chunks);
        if (withChunks is not { } opened)
        {
            await DropSchemaAsync();
            return null;
        }

        return (opened.Item1, async () =>
        {
            await opened.Item2();
            await DropSchemaAsync();
        });
    }

    /// <summary>Runs one statement; false (with a message) when the server does not answer.</summary>
    private static async Task<bool> PostgreSqlAsync(string connectionString, string sql, string name)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Console.WriteLine($"  {name} skipped: {ex.Message.Split('\n')[0]}");
            return false;
        }
    }

    private static async Task<(IChunkStore, Func<Task>)> AzureChunksAsync(string azurite)
    {
        var container = new BlobContainerClient(azurite, "bench-" + Guid.NewGuid().ToString("N")[..16]);
        await container.CreateAsync();
        var store = new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = azurite, ContainerName = container.Name });
        return (store, async () => await container.DeleteIfExistsAsync());
    }

    private static async Task<(IChunkStore, Func<Task>)> S3ChunksAsync(Uri s3)
    {
        var bucket = "bench-" + Guid.NewGuid().ToString("N")[..16];
        var admin = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
        {
            ServiceURL = s3.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        try
        {
            await admin.PutBucketAsync(bucket);
        }
        catch
        {
            admin.Dispose();
            throw;
        }

        var store = new S3ChunkStore(new S3ChunkStoreOptions { BucketName = bucket, ServiceUrl = s3, AccessKey = "S3RVER", SecretKey = "S3RVER", ForcePathStyle = true });
        return (store, async () =>
        {
            store.Dispose();
            string? continuation = null;
            do
            {
                var page = await admin.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = continuation });
                foreach (var item in page.S3Objects ?? []) await admin.DeleteObjectAsync(bucket, item.Key);
                continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (continuation is not null);
            await admin.DeleteBucketAsync(bucket);
            admin.Dispose();
        });
    }

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var count = 64;
        var rounds = 3;
        var azurite = Environment.GetEnvironmentVariable("BLOBSTORAGE_TEST_AZURITE")
            ?? "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
        var s3 = new Uri(Environment.GetEnvironmentVariable("BLOBSTORAGE_TEST_S3") ?? "http://127.0.0.1:4568");
        var postgreSql = Environment.GetEnvironmentVariable("BLOBSTORAGE_TEST_POSTGRESQL")
            ?? "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres;Pooling=true;Timeout=15";
        var processOperations = 60;
        string? scaleHost = null;
        var parent = Path.GetTempPath();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--count" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n > 0:
                    count = n;
                    i++;
                    break;
                case "--rounds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var r) && r > 0:
                    rounds = r;
                    i++;
                    break;
                case "--azurite" when i + 1 < args.Length:
                    azurite = args[++i];
                    break;
                case "--s3" when i + 1 < args.Length && Uri.TryCreate(args[i + 1], UriKind.Absolute, out var url):
                    s3 = url;
                    i++;
                    break;
                case "--pg" when i + 1 < args.Length:
                    postgreSql = args[++i];
                    break;
                case "--process-ops" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var p) && p >= 0:
                    processOperations = p;
                    i++;
                    break;
                case "--scalehost" when i + 1 < args.Length:
                    scaleHost = args[++i];
                    break;
                case "--dir" when i + 1 < args.Length:
                    parent = args[++i];
                    break;
                default:
                    Console.Error.WriteLine($"Unknown or incomplete argument '{args[i]}'.");
                    Console.Error.WriteLine("usage: backends [--count N] [--rounds R] [--azurite CONNECTION-STRING] [--s3 URL] [--pg CONNECTION-STRING] [--process-ops M] [--scalehost DLL] [--dir PATH]");
                    Console.Error.WriteLine("  N 1 MiB blobs per round (default 64); R rounds (default 3); M operations per role of the multi-process workload (default 60, 0 skips it)");
                    return 2;
            }
        }

        var backends = Backends(azurite, s3, postgreSql);
        var results = backends.ToDictionary(b => b.Name, _ => (Up: new List<double>(), Down: new List<double>()));
        Console.WriteLine($"{count} blobs of 1 MiB uploaded one after another, then downloaded, per backend and round; {rounds} rounds; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var backend in backends)
            {
                var work = Path.Combine(Path.GetFullPath(parent), "blobstorage-backends-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(work);
                try
                {
                    var opened = await backend.Open(work);
                    if (opened is not { } o) continue;
                    try
                    {
                        var (up, down) = await MeasureAsync(o.Builder, count, (ulong)round);
                        results[backend.Name].Up.Add(up);
                        results[backend.Name].Down.Add(down);
                        Console.WriteLine($"  round {round}  {backend.Name,-20} upload {up,8:F1} MB/s   download {down,8:F1} MB/s");
                    }
                    finally
                    {
                        await o.CleanUp();
                    }
                }
                finally
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"backend",-20} {"upload MB/s",12} {"ratio",7} {"download MB/s",14} {"ratio",7}   (medians of {rounds} rounds; ratio to {backends[0].Name})");
        var baseline = results[backends[0].Name];
        foreach (var backend in backends)
        {
            var (ups, downs) = results[backend.Name];
            if (ups.Count == 0) continue;
            var up = Median(ups);
            var down = Median(downs);
            Console.WriteLine($"{backend.Name,-20} {up,12:F1} {up / Median(baseline.Up),7:F2} {down,14:F1} {down / Median(baseline.Down),7:F2}");
        }

        if (processOperations > 0)
        {
            Console.WriteLine();
            await MultiProcessWorkload.RunAsync(scaleHost, postgreSql, azurite, processOperations, rounds, Path.GetFullPath(parent));
        }

        return 0;
    }

    private static async Task<(double Up, double Down)> MeasureAsync(BlobStoreBuilder builder, int count, ulong round)
    {
        await using var store = await builder.Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan).OpenAsync();
        await store.CreateContainerAsync("bench");

        // Warm-up (connections, JIT, SQLite pages), not timed.
        for (var i = 0; i < 4; i++)
        {
            await store.UploadAsync("bench", $"warm-{i}", new GeneratedStream(BlobSize, (round * 1_000_000) + 999_000 + (ulong)i));
            await using var warm = await store.DownloadAsync("bench", $"warm-{i}");
            await warm.Content.CopyToAsync(Stream.Null);
        }

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await store.UploadAsync("bench", $"blob-{i}", new GeneratedStream(BlobSize, (round * 1_000_000) + (ulong)i));
        }

        var up = (double)count * BlobSize / 1e6 / watch.Elapsed.TotalSeconds;
        var buffer = new byte[128 * 1024];
        long read = 0;
        watch.Restart();
        for (var i = 0; i < count; i++)
        {
            await using var download = await store.DownloadAsync("bench", $"blob-{i}");
            int n;
            while ((n = await download.Content.ReadAsync(buffer)) > 0) read += n;
        }

        var down = (double)count * BlobSize / 1e6 / watch.Elapsed.TotalSeconds;
        if (read != (long)count * BlobSize) throw new InvalidOperationException($"Downloaded {read} bytes, expected {(long)count * BlobSize}.");
        return (up, down);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
