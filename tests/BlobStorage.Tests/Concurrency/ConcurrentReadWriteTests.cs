using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Concurrency;

/// <summary>
/// Writers, readers, conditional writers and the collector run at once on a few names. Every
/// count of iterations is fixed; nothing waits on the wall clock, the grace period passes on the
/// fake clock.
/// </summary>
[TestFixture]
public sealed class ConcurrentReadWriteTests
{
    private const int ChunkSize = TestStore.ChunkSize;
    private const string Container = "shared";
    private static readonly string[] Names = ["first", "dir/second", "dir/sub/third", "é/fourth"];
    private static readonly int[] Tails = [0, 1, 777, 4093];
    private static readonly byte[][] SharedChunks = [Streams.Bytes(ChunkSize, seed: 11), Streams.Bytes(ChunkSize, seed: 12)];

    /// <summary>A version of a name: which writer wrote it, its sequence number, and so every byte of it.</summary>
    private sealed record Version(string Name, int Writer, int Sequence);

    [Test]
    [CancelAfter(120_000)]
    public async Task Readers_see_only_whole_versions_while_writers_overwrite_and_maintenance_collects(CancellationToken cancellationToken)
    {
        const int writers = 8, readers = 8, writesEach = 12, readsEach = 60;
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync(Container, cancellationToken: cancellationToken);

        var versions = new ConcurrentDictionary<string, Version>(StringComparer.Ordinal);
        var written = new int[Names.Length];
        long wholeReads = 0, rangeReads = 0, notFound = 0;

        // Half the names hold a first version before the race starts, so readers overlap writers from
        // the first read; the other half are created during it (a read may find nothing there yet).
        for (var n = 0; n < Names.Length; n += 2)
        {
            var content = Make(writers, n);
            versions[Streams.Sha256(content)] = new Version(Names[n], writers, n);
            await store.UploadBytesAsync(Container, Names[n], content);
            written[n] = 1;
        }
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Run(
            async () =>
            {
                await gate.Task;
                for (var i = 0; i < writesEach; i++)
                {
                    // Back to the pool between operations, so tasks interleave even when the store completes synchronously.
                    await Task.Yield();
                    var n = (w + i) % Names.Length;
                    var content = Make(w, i);
                    var hash = Streams.Sha256(content);

                    // Known before the upload starts: a reader may see the version as soon as it commits.
                    versions[hash] = new Version(Names[n], w, i);
                    var properties = await store.UploadAsync(Container, Names[n], new MemoryStream(content, writable: false), cancellationToken: cancellationToken);
                    properties.ContentHash.Should().Be(hash);
                    properties.Size.Should().Be(content.Length);
                    Volatile.Write(ref written[n], 1);
                }
            },
            cancellationToken));

        var readerTasks = Enumerable.Range(0, readers).Select(r => Task.Run(
            async () =>
            {
                var random = new Random(r);
                await gate.Task;
                for (var i = 0; i < readsEach; i++)
                {
                    await Task.Yield();
                    var n = random.Next(Names.Length);
                    var existed = Volatile.Read(ref written[n]) == 1;

                    // Every version is at least one chunk long, so these ranges always start inside it.
                    BlobRange? range = random.Next(4) switch
                    {
                        0 => null,
                        1 => new BlobRange(random.Next(ChunkSize), random.Next(1, 3 * ChunkSize)),
                        2 => BlobRange.Last(random.Next(1, 5 * ChunkSize)),
                        _ => new BlobRange(random.Next(ChunkSize)),
                    };
                    try
                    {
                        await using var download = await store.DownloadAsync(Container, Names[n], new BlobDownloadOptions { Range = range }, cancellationToken);
                        var bytes = await Streams.ReadAllAsync(download.Content);
                        CheckRead(download, bytes, Names[n], range, versions);
                        Interlocked.Increment(ref range is null ? ref wholeReads : ref rangeReads);
                    }
                    catch (BlobNotFoundException) when (!existed)
                    {
                        // Nothing was written to the name yet.
                        Interlocked.Increment(ref notFound);
                    }
                }
            },
            cancellationToken));

        var (passes, _) = await RunWithMaintenanceAsync(test, gate, [.. writerTasks, .. readerTasks], cancellationToken);
        TestContext.Out.WriteLine($"{wholeReads} whole and {rangeReads} range reads, {notFound} before the first write, {passes} maintenance passes, {versions.Count} versions written");

        // Every name reads back as one whole version written to it.
        foreach (var name in Names)
        {
            await using var download = await store.DownloadAsync(Container, name, cancellationToken: cancellationToken);
            CheckRead(download, await Streams.ReadAllAsync(download.Content), name, null, versions);
        }

        await ExpectCleanAfterCollectionAsync(test, cancellationToken);
        var statistics = await store.GetStatisticsAsync(cancellationToken);
        statistics.TotalBlobs.Should().Be(Names.Length);
        statistics.WriteOperations.Should().Be((writers * writesEach) + ((Names.Length + 1) / 2), "every upload succeeded once");
        (wholeReads + rangeReads).Should().BeGreaterThan(0);
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Of_16_concurrent_create_only_uploads_exactly_one_wins(CancellationToken cancellationToken)
    {
        const int contenders = 16;
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync(Container, cancellationToken: cancellationToken);
        var contents = Enumerable.Range(0, contenders).Select(i => Streams.Bytes((2 * ChunkSize) + 1 + i, seed: 100 + i)).ToArray();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = Enumerable.Range(0, contenders).Select(i => Task.Run(
            async () =>
            {
                await gate.Task;
                try
                {
                    var options = new BlobUploadOptions { Conditions = BlobRequestConditions.CreateOnly };
                    return (Index: i, Properties: await store.UploadAsync(Container, "only-one", new MemoryStream(contents[i], writable: false), options, cancellationToken));
                }
                catch (PreconditionFailedException)
                {
                    return (Index: i, Properties: (BlobProperties?)null);
                }
            },
            cancellationToken)).ToList();
        gate.SetResult();
        var results = await Task.WhenAll(attempts);

        var winners = results.Where(r => r.Properties is not null).ToList();
        winners.Should().ContainSingle("IfNoneMatch * lets exactly one create the blob; the other 15 get PreconditionFailedException");
        var (index, properties) = winners[0];
        await using (var download = await store.DownloadAsync(Container, "only-one", cancellationToken: cancellationToken))
        {
            download.Properties.ETag.Should().Be(properties!.ETag, "the winner's upload is the blob");
            (await Streams.ReadAllAsync(download.Content)).Should().Equal(contents[index]);
        }

        var statistics = await store.GetStatisticsAsync(cancellationToken);
        statistics.TotalBlobs.Should().Be(1);
        statistics.WriteOperations.Should().Be(1, "failed uploads are not writes");

        // The losers' chunks (written before their commit failed) are gone after a maintenance pass.
        var report = await ExpectCleanAfterCollectionAsync(test, cancellationToken);
        report.ChunksChecked.Should().Be(3, "only the winner's three chunks remain");
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task IfMatch_makes_a_read_modify_write_counter_exact(CancellationToken cancellationToken)
    {
        const int workers = 8, incrementsEach = 6;
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync(Container, cancellationToken: cancellationToken);
        await store.UploadBytesAsync(Container, "counter", Encoding.UTF8.GetBytes("0"));
        long conflicts = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(
            async () =>
            {
                await gate.Task;
                for (var done = 0; done < incrementsEach;)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await Task.Yield();
                    try
                    {
                        // Half the workers read properties and content in one call, half in two (the second conditional on the first).
                        string etag;
                        int value;
                        if (w % 2 == 0)
                        {
                            await using var download = await store.DownloadAsync(Container, "counter", cancellationToken: cancellationToken);
                            etag = download.Properties.ETag;
                            value = ParseCounter(await Streams.ReadAllAsync(download.Content));
                        }
                        else
                        {
                            var properties = await store.GetPropertiesAsync(Container, "counter", cancellationToken);
                            etag = properties.ETag;
                            var conditions = new BlobRequestConditions { IfMatch = etag };
                            await using var download = await store.DownloadAsync(Container, "counter", new BlobDownloadOptions { Conditions = conditions }, cancellationToken);
                            download.Properties.ETag.Should().Be(etag);
                            value = ParseCounter(await Streams.ReadAllAsync(download.Content));
                        }

                        var next = Encoding.UTF8.GetBytes((value + 1).ToString(CultureInfo.InvariantCulture));
                        await store.UploadAsync(Container, "counter", new MemoryStream(next), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = etag } }, cancellationToken);
                        done++;
                    }
                    catch (PreconditionFailedException)
                    {
                        Interlocked.Increment(ref conflicts);
                    }
                }
            },
            cancellationToken)).ToList();
        gate.SetResult();
        await Task.WhenAll(tasks);

        var final = ParseCounter(await store.DownloadBytesAsync(Container, "counter"));
        TestContext.Out.WriteLine($"{workers * incrementsEach} increments, {conflicts} conflicts retried");
        final.Should().Be(workers * incrementsEach, "each successful conditional upload incremented the value it read, and no two from the same value");
        (await store.GetStatisticsAsync(cancellationToken)).WriteOperations.Should().Be(1 + (workers * incrementsEach), "failed conditional uploads are not writes");
        await ExpectCleanAfterCollectionAsync(test, cancellationToken);
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Identical_content_uploaded_and_deleted_concurrently_keeps_reference_counts_exact(CancellationToken cancellationToken)
    {
        const int names = 16;
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync(Container, cancellationToken: cancellationToken);
        var content = Streams.Bytes((3 * ChunkSize) + 10, seed: 42);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var uploads = Enumerable.Range(0, names).Select(i => Task.Run(
            async () =>
            {
                await gate.Task;
                await store.UploadAsync(Container, $"copy-{i:D2}", new MemoryStream(content, writable: false), cancellationToken: cancellationToken);
            },
            cancellationToken)).ToList();
        gate.SetResult();
        await Task.WhenAll(uploads);

        var statistics = await store.GetStatisticsAsync(cancellationToken);
        statistics.TotalBlobs.Should().Be(names);
        statistics.ChunkCount.Should().Be(4, "16 blobs of the same 4 chunks store them once");
        statistics.StoredBytes.Should().Be(content.Length);
        var report = await store.VerifyAsync(verifyContent: true, cancellationToken);
        report.IsClean.Should().BeTrue(Describe(report));
        for (var i = 0; i < names; i++)
        {
            (await store.DownloadBytesAsync(Container, $"copy-{i:D2}")).Should().Equal(content);
        }

        // Half deleted while the other half is overwritten with the same bytes again.
        var churn = Enumerable.Range(0, names).Select(i => Task.Run(
            async () =>
            {
                if (i % 2 == 0) await store.DeleteAsync(Container, $"copy-{i:D2}", cancellationToken: cancellationToken);
                else await store.UploadAsync(Container, $"copy-{i:D2}", new MemoryStream(content, writable: false), cancellationToken: cancellationToken);
            },
            cancellationToken));
        await Task.WhenAll(churn);
        report = await ExpectCleanAfterCollectionAsync(test, cancellationToken);
        report.ChunksChecked.Should().Be(4, "the remaining 8 blobs still share the 4 chunks");

        await Task.WhenAll(Enumerable.Range(0, names).Where(i => i % 2 == 1).Select(i => Task.Run(() => store.DeleteAsync(Container, $"copy-{i:D2}", cancellationToken: cancellationToken), cancellationToken)));
        report = await ExpectCleanAfterCollectionAsync(test, cancellationToken);
        report.ChunksChecked.Should().Be(0, "no blob refers to the chunks any more, so the collector removed them");
        (await store.GetStatisticsAsync(cancellationToken)).ChunkCount.Should().Be(0);
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Every_concurrent_download_is_counted_in_the_statistics(CancellationToken cancellationToken)
    {
        const int readers = 8, readsEach = 30, writers = 4, writesEach = 10;
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync(Container, cancellationToken: cancellationToken);
        for (var n = 0; n < Names.Length; n++)
        {
            await store.UploadBytesAsync(Container, Names[n], Make(99, n));
        }

        long reads = 0, bytesRead = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readerTasks = Enumerable.Range(0, readers).Select(r => Task.Run(
            async () =>
            {
                var random = new Random(r);
                await gate.Task;
                for (var i = 0; i < readsEach; i++)
                {
                    await Task.Yield();
                    await using var download = await store.DownloadAsync(Container, Names[random.Next(Names.Length)], cancellationToken: cancellationToken);
                    var bytes = await Streams.ReadAllAsync(download.Content);
                    Interlocked.Increment(ref reads);
                    Interlocked.Add(ref bytesRead, bytes.Length);
                }
            },
            cancellationToken));
        var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Run(
            async () =>
            {
                await gate.Task;
                for (var i = 0; i < writesEach; i++)
                {
                    // Back to the pool between operations, so tasks interleave even when the store completes synchronously.
                    await Task.Yield();
                    await store.UploadAsync(Container, Names[(w + i) % Names.Length], new MemoryStream(Make(w, i), writable: false), cancellationToken: cancellationToken);
                }
            },
            cancellationToken));

        await RunWithMaintenanceAsync(test, gate, [.. readerTasks, .. writerTasks], cancellationToken);

        var statistics = await store.GetStatisticsAsync(cancellationToken);
        statistics.ReadOperations.Should().Be(reads, "every download served is counted, also those of a version overwritten before the counts were written");
        statistics.BytesRead.Should().Be(bytesRead, "every byte served is counted");
        statistics.WriteOperations.Should().Be(Names.Length + (writers * writesEach));
    }

    // ---- helpers ----

    /// <summary>
    /// Releases the workers and, until they are all done, runs maintenance passes one after the
    /// other, each after moving the fake clock past the grace period.
    /// </summary>
    private static async Task<(int Passes, MaintenanceReport? Last)> RunWithMaintenanceAsync(TestStore test, TaskCompletionSource gate, Task[] workers, CancellationToken cancellationToken)
    {
        using var stop = new CancellationTokenSource();
        var maintenance = Task.Run(
            async () =>
            {
                var passes = 0;
                MaintenanceReport? last = null;
                while (!stop.IsCancellationRequested || passes < 3)
                {
                    test.Time.Advance(TimeSpan.FromMinutes(16));
                    last = await test.Store.RunMaintenanceAsync(cancellationToken);
                    passes++;
                    await Task.Yield();
                }

                return (passes, last);
            },
            cancellationToken);
        gate.SetResult();
        try
        {
            await Task.WhenAll(workers);
        }
        finally
        {
            await stop.CancelAsync();
        }

        return await maintenance;
    }

    private static async Task<VerificationReport> ExpectCleanAfterCollectionAsync(TestStore test, CancellationToken cancellationToken)
    {
        test.Time.PassGracePeriodOfFiles();
        await test.Store.RunMaintenanceAsync(cancellationToken);
        var report = await test.Store.VerifyAsync(verifyContent: true, cancellationToken);
        report.IsClean.Should().BeTrue(Describe(report));
        report.ChunksAwaitingCollection.Should().Be(0, "every unreferenced chunk is past its grace period");
        return report;
    }

    private static void CheckRead(BlobDownload download, byte[] bytes, string name, BlobRange? range, ConcurrentDictionary<string, Version> versions)
    {
        versions.TryGetValue(download.Properties.ContentHash, out var version).Should().BeTrue(
            $"the download of '{name}' names content {download.Properties.ContentHash}, which must be a version some writer uploaded");
        version!.Name.Should().Be(name, "a name only ever holds versions written to it");
        var expected = Make(version.Writer, version.Sequence);
        download.Properties.Size.Should().Be(expected.Length);
        if (range is null)
        {
            download.Offset.Should().Be(0);
            download.Length.Should().Be(expected.Length);
            Streams.Sha256(bytes).Should().Be(download.Properties.ContentHash, "a whole download is exactly the version its properties describe");
        }
        else if (range.Value.IsSuffix)
        {
            download.Length.Should().Be(Math.Min(range.Value.Length!.Value, expected.Length));
            download.Offset.Should().Be(expected.Length - download.Length);
        }
        else
        {
            download.Offset.Should().Be(range.Value.Offset);
            download.Length.Should().Be(Math.Min(range.Value.Length ?? long.MaxValue, expected.Length - range.Value.Offset));
        }

        bytes.Length.Should().Be((int)download.Length, "the stream yields Length bytes");
        if (!bytes.AsSpan().SequenceEqual(expected.AsSpan((int)download.Offset, bytes.Length)))
        {
            var at = bytes.AsSpan().CommonPrefixLength(expected.AsSpan((int)download.Offset));
            Assert.Fail($"Torn read of '{name}': bytes {download.Offset}..{download.Offset + download.Length} differ from version (writer {version.Writer}, sequence {version.Sequence}) from offset {download.Offset + at}.");
        }
    }

    /// <summary>
    /// The content of a writer's version: 1 to 4 chunks plus an odd tail. Most 8-byte words encode
    /// (writer, sequence, position), so bytes from two versions never match; some whole chunks come
    /// from a small shared pool, so versions share chunks and the collector has work.
    /// </summary>
    private static byte[] Make(int writer, int sequence)
    {
        var chunks = ((writer + sequence) % 4) + 1;
        var length = (chunks * ChunkSize) + Tails[((writer * 3) + sequence) % Tails.Length];
        var bytes = new byte[length];
        var word = new byte[8];
        for (var start = 0; start < length; start += ChunkSize)
        {
            var block = start / ChunkSize;
            var span = bytes.AsSpan(start, Math.Min(ChunkSize, length - start));
            if (block > 0 && span.Length == ChunkSize && (writer + sequence + block) % 3 == 0)
            {
                SharedChunks[block % 2].CopyTo(span);
                continue;
            }

            for (var i = 0; i < span.Length; i += 8)
            {
                var value = (0xA5UL << 56) | ((ulong)(byte)writer << 48) | ((ulong)(ushort)sequence << 32) | (uint)((start + i) / 8);
                BinaryPrimitives.WriteUInt64LittleEndian(word, value);
                word.AsSpan(0, Math.Min(8, span.Length - i)).CopyTo(span[i..]);
            }
        }

        return bytes;
    }

    private static int ParseCounter(byte[] bytes) => int.Parse(Encoding.UTF8.GetString(bytes), CultureInfo.InvariantCulture);

    private static string Describe(VerificationReport report) =>
        $"verification must be clean: missing [{string.Join(", ", report.MissingChunks)}], unreferenced [{string.Join(", ", report.UnreferencedChunks)}], miscounted [{string.Join(", ", report.ReferenceCountMismatches)}]";
}
