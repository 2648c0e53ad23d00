using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Replication;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Faults;

/// <summary>
/// Damage on disk: bit flips in chunk headers and contents, truncation, deletion, a damaged metadata
/// database, and bad replicas. A read returns the right bytes or throws
/// <see cref="DataCorruptionException"/> (never a wrong byte, even before the exception), and a
/// content scrub reports every damaged chunk.
/// </summary>
public class CorruptionTests
{
    private const string Container = "corrupt";
    private const int Chunk = TestStore.ChunkSize;
    private const int Trials = 80;

    private enum Damage
    {
        HeaderBitFlip,
        ContentBitFlip,
        ManyBitFlips,
        Truncate,
        Extend,
        ZeroFill,
        Delete,
    }

    [Test]
    public async Task Damaged_chunks_are_never_served_and_the_scrub_reports_each()
    {
        await using var t = await TestStore.OpenAsync(NoInline);
        var store = t.Store;
        var blobs = await UploadSampleAsync(store);
        var injected = new Dictionary<Damage, int>();
        var detected = new Dictionary<Damage, int>();
        var safeFailures = 0;
        var correctReads = 0;
        var problems = new List<string>();

        for (var trial = 0; trial < Trials; trial++)
        {
            var rng = new Random(1000 + trial);
            var (name, content) = blobs[rng.Next(blobs.Count)];
            var chunks = ChunksOf(content);
            var index = rng.Next(chunks.Count);
            var id = chunks[index];
            var path = ChunkPath(t.RootPath, id);
            var original = await File.ReadAllBytesAsync(path);
            var damage = (Damage)rng.Next(Enum.GetValues<Damage>().Length);
            var what = Apply(damage, path, original, rng);
            if (what is null)
            {
                continue;
            }

            injected[damage] = injected.GetValueOrDefault(damage) + 1;
            var context = $"trial {trial} (seed {1000 + trial}): {what} in chunk {index} of '{name}'";
            try
            {
                var chunkStart = (long)index * Chunk;
                var chunkLength = Math.Min(Chunk, content.Length - chunkStart);
                var ranges = new List<BlobRange?>
                {
                    null,
                    new BlobRange(chunkStart, chunkLength),
                    new BlobRange(chunkStart + rng.Next((int)chunkLength)),
                    new BlobRange(Math.Max(0, chunkStart - rng.Next(1, 2 * Chunk)), rng.Next(1, 3 * Chunk)),
                    BlobRange.Last(content.Length - chunkStart - rng.Next((int)chunkLength)),
                };
                foreach (var range in ranges)
                {
                    var outcome = await ReadCheckedAsync(store, name, content, range);
                    if (outcome.Problem is not null) problems.Add($"{context}, range {Describe(range)}: {outcome.Problem}");
                    else if (outcome.Failed) safeFailures++;
                    else correctReads++;
                }

                var report = await store.VerifyAsync(verifyContent: true);
                if (report.MissingChunks.Any(m => m.Chunk == id && m.Name == name))
                {
                    detected[damage] = detected.GetValueOrDefault(damage) + 1;
                }
                else
                {
                    problems.Add($"{context}: VerifyAsync(verifyContent: true) did not report it");
                }

                if (damage == Damage.Delete && !(await store.VerifyAsync()).MissingChunks.Any(m => m.Chunk == id))
                {
                    problems.Add($"{context}: VerifyAsync() did not report the missing file");
                }
            }
            finally
            {
                await File.WriteAllBytesAsync(path, original);
            }
        }

        var clean = await store.VerifyAsync(verifyContent: true);
        clean.IsClean.Should().BeTrue("every damaged file was put back");
        TestContext.Out.WriteLine(
            $"Corruption: {injected.Values.Sum()} injected ({string.Join(", ", injected.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}), " +
            $"{detected.Values.Sum()} detected by the scrub; {safeFailures} reads refused with DataCorruptionException, {correctReads} reads returned the right bytes, {problems.Count} problems");
        problems.Should().BeEmpty();
    }

    /// <summary>Bytes 24 to 31 of a chunk header name the chunk (the first 8 bytes of its id): a flip there makes the file unreadable and the scrub reports it.</summary>
    [Test]
    public async Task A_flip_in_the_reserved_header_bytes_is_reported_by_the_scrub()
    {
        await using var t = await TestStore.OpenAsync(NoInline);
        await t.Store.CreateContainerAsync(Container);
        var content = Streams.Bytes(5000, seed: 3);
        await t.Store.UploadBytesAsync(Container, "x", content);
        var id = ChunkId.Compute(content);
        var path = ChunkPath(t.RootPath, id);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[28] ^= 0x10;
        await File.WriteAllBytesAsync(path, bytes);

        await FluentActions.Awaiting(() => t.Store.DownloadBytesAsync(Container, "x")).Should().ThrowAsync<DataCorruptionException>("the header no longer names this chunk");
        var report = await t.Store.VerifyAsync(verifyContent: true);
        report.MissingChunks.Select(m => m.Chunk).Should().Contain(id, "the chunk file was damaged (its header names another chunk)");
    }

    /// <summary>
    /// A chunk file whose bytes are another chunk's whole, valid file (a misdirected write, a bad
    /// restore): its header and checksum agree with each other, but not with the chunk it stands for.
    /// </summary>
    [TestCase(0, TestName = "Misdirected chunk file of the same length")]
    [TestCase(1, TestName = "Misdirected chunk file, shorter")]
    [TestCase(2, TestName = "Misdirected chunk file, longer")]
    public async Task A_chunk_file_holding_another_chunk_is_never_served(int shape)
    {
        await using var t = await TestStore.OpenAsync(NoInline);
        await t.Store.CreateContainerAsync(Container);
        var victim = Streams.Bytes(2 * Chunk, seed: 11);
        await t.Store.UploadBytesAsync(Container, "victim", victim);
        var victimChunk = ChunksOf(victim)[0];

        // A valid chunk file of other bytes: as long as the victim's chunk, shorter, or longer (from a store with bigger chunks).
        var standIn = Streams.Bytes(shape switch { 0 => Chunk, 1 => Chunk / 2, _ => Chunk + 5000 }, seed: 12);
        await File.WriteAllBytesAsync(ChunkPath(t.RootPath, victimChunk), await MakeChunkFileAsync(standIn));

        var outcome = await ReadCheckedAsync(t.Store, "victim", victim, range: null);
        outcome.Problem.Should().BeNull();
        var ranged = await ReadCheckedAsync(t.Store, "victim", victim, new BlobRange(10, 100));
        ranged.Problem.Should().BeNull();
        VerificationReport? report = null;
        var verify = async () => report = await t.Store.VerifyAsync(verifyContent: true);
        await verify.Should().NotThrowAsync();
        report!.MissingChunks.Select(m => m.Chunk).Should().Contain(victimChunk);
    }

    [TestCase("garbage first page")]
    [TestCase("zeroed header")]
    [TestCase("truncated")]
    [TestCase("text file")]
    public async Task A_damaged_metadata_database_fails_the_open_with_a_clear_error(string damage)
    {
        using var folder = new TempFolder("corrupt-db");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        await using (var store = await Open(folder.Path, time))
        {
            await store.CreateContainerAsync(Container);
            await store.UploadBytesAsync(Container, "x", Streams.Bytes(3 * Chunk, seed: 5));
        }

        var db = Path.Combine(folder.Path, "metadata.db");
        File.Exists(db + "-wal").Should().BeFalse("a cleanly closed store leaves no write-ahead log, so page 1 is only in the main file");
        var bytes = await File.ReadAllBytesAsync(db);
        var rng = new Random(7);
        switch (damage)
        {
            case "garbage first page":
                rng.NextBytes(bytes.AsSpan(0, Math.Min(4096, bytes.Length)));
                break;
            case "zeroed header":
                bytes.AsSpan(0, 100).Clear();
                break;
            case "truncated":
                bytes = bytes[..50];
                break;
            default:
                bytes = "this is not a database, it is a shopping list\n"u8.ToArray();
                break;
        }

        await File.WriteAllBytesAsync(db, bytes);
        var open = () => Open(folder.Path, time);
        var error = (await open.Should().ThrowAsync<BlobStorageException>()).Which;
        error.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        error.Message.Should().Contain("metadata.db").And.ContainAny("damaged", "not a SQLite database");
        TestContext.Out.WriteLine($"{damage}: {error.Message}");

        // The failed open released what it held: the chunk folder can be opened again.
        using var chunks = new FileSystemChunkStore(Path.Combine(folder.Path, "chunks"));
    }

    /// <summary>
    /// Damage past the header: the open may succeed, but every call returns the right answer or throws a
    /// BlobStorageException, never a raw SQLite error, and never wrong bytes: every download is compared.
    /// </summary>
    [Test]
    public async Task A_metadata_database_damaged_inside_gives_typed_errors()
    {
        using var folder = new TempFolder("corrupt-db");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        static byte[] ContentOf(int i) => Streams.Bytes(100 + i, seed: i);
        await using (var store = await Open(folder.Path, time))
        {
            await store.CreateContainerAsync(Container);
            for (var i = 0; i < 300; i++)
            {
                await store.UploadBytesAsync(Container, $"blob-{i:D4}", ContentOf(i));
            }
        }

        var db = Path.Combine(folder.Path, "metadata.db");
        var pristine = await File.ReadAllBytesAsync(db);
        var pageSize = (pristine[16] << 8) | pristine[17];
        if (pageSize == 1) pageSize = 65536;
        var pages = pristine.Length / pageSize;
        var outcomes = new List<string>();
        var wrong = new List<string>();
        var rng = new Random(9);
        var opened = 0;
        var answered = 0;

        // One damaged page at a time, every third from the second on: schema, table, index and free-list pages in turn.
        for (var page = 1; page < pages; page += 3)
        {
            var bytes = (byte[])pristine.Clone();
            rng.NextBytes(bytes.AsSpan(page * pageSize, pageSize));
            await File.WriteAllBytesAsync(db, bytes);
            var line = new List<string>();
            async Task Call(string what, Func<IBlobStore, Task<string?>> call, IBlobStore s)
            {
                try
                {
                    // The call returns null when its answer is right, or what is wrong with it.
                    var problem = await call(s);
                    line.Add($"{what} ok");
                    answered++;
                    if (problem is not null) wrong.Add($"page {page + 1}: {what} answered wrongly: {problem}");
                }
                catch (BlobStorageException ex)
                {
                    line.Add($"{what} {ex.ErrorCode}");
                }
                catch (Exception ex)
                {
                    wrong.Add($"page {page + 1}: {what} threw {ex.GetType().Name}, not a BlobStorageException: {ex.Message}");
                }
            }

            IBlobStore? store = null;
            try
            {
                store = await Open(folder.Path, time);
                opened++;
            }
            catch (BlobStorageException ex)
            {
                ex.ErrorCode.Should().BeOneOf(BlobErrorCode.StoreUnavailable, BlobErrorCode.DataCorruption);
                line.Add($"open {ex.ErrorCode}");
            }

            if (store is not null)
            {
                await using var _ = store;
                await Call("get", async s => (await s.GetPropertiesAsync(Container, "blob-0100")).Size == 200 ? null : "size is not 200", store);
                await Call("download", async s => (await s.DownloadBytesAsync(Container, "blob-0200")).AsSpan().SequenceEqual(ContentOf(200)) ? null : "wrong bytes", store);
                await Call("list", async s =>
                {
                    await foreach (var blob in s.ListAllAsync(Container))
                    {
                        var i = int.Parse(blob.Name.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
                        if (blob.Size != ContentOf(i).Length) return $"'{blob.Name}' listed with {blob.Size} bytes";
                    }

                    return null;
                }, store);
                await Call("upload", async s => (await s.UploadBytesAsync(Container, "new", [1, 2, 3])).Size == 3 ? null : "wrong size", store);
                await Call("delete", async s =>
                {
                    await s.DeleteAsync(Container, "blob-0050");
                    return null;
                }, store);
                await Call("statistics", async s => (await s.GetStatisticsAsync()).TotalBlobs >= 0 ? null : "negative count", store);
                await Call("verify", async s =>
                {
                    await s.VerifyAsync(verifyContent: true);
                    return null;
                }, store);
                await Call("maintenance", async s =>
                {
                    await s.RunMaintenanceAsync();
                    return null;
                }, store);
                for (var i = 0; i < 300; i += 7)
                {
                    var name = $"blob-{i:D4}";
                    await Call($"download {name}", async s => (await s.DownloadBytesAsync(Container, name)).AsSpan().SequenceEqual(ContentOf(i)) ? null : "wrong bytes", store);
                }
            }

            outcomes.Add($"page {page + 1}/{pages}: {string.Join(", ", line.Where(l => !l.StartsWith("download blob-", StringComparison.Ordinal)))}");
        }

        TestContext.Out.WriteLine(string.Join("\n", outcomes));
        wrong.Should().BeEmpty("a damaged database gives right answers or typed errors, never wrong bytes or raw exceptions");
        answered.Should().BeGreaterThan(0, "damage to some pages leaves most calls working");
    }

    /// <summary>A download keeps its version's chunks: a delete and a collection pass with no grace period do not cut it short.</summary>
    [TestCase(false, TestName = "A stream opened before a delete reads the original bytes to the end")]
    [TestCase(true, TestName = "A stream opened before an overwrite reads the original bytes to the end")]
    public async Task A_stream_opened_before_a_delete_reads_to_the_end(bool overwrite)
    {
        await using var t = await TestStore.OpenAsync(o =>
        {
            o.GarbageCollectionGracePeriod = TimeSpan.Zero;
            NoInline(o);
        });
        var store = t.Store;
        await store.CreateContainerAsync(Container);
        var content = Streams.Bytes(6 * Chunk + 321, seed: 21);
        await store.UploadBytesAsync(Container, "x", content);

        await using (var download = await store.DownloadAsync(Container, "x"))
        await using (var ranged = await store.DownloadAsync(Container, "x", new BlobDownloadOptions { Range = new BlobRange(3 * Chunk - 5, 2 * Chunk) }))
        {
            var head = new byte[1000];
            await download.Content.ReadExactlyAsync(head);
            if (overwrite) await store.UploadBytesAsync(Container, "x", Streams.Bytes(100, seed: 22));
            else await store.DeleteAsync(Container, "x");
            t.Time.Advance(TimeSpan.FromMinutes(1));
            await store.RunMaintenanceAsync();

            var rest = await Streams.ReadAllAsync(download.Content);
            head.Concat(rest).Should().Equal(content);
            (await Streams.ReadAllAsync(ranged.Content)).Should().Equal(content.AsSpan(3 * Chunk - 5, 2 * Chunk).ToArray());
        }

        // The streams are closed: now the old chunks go.
        await Task.Delay(50);
        t.Time.Advance(TimeSpan.FromMinutes(1));
        var report = await store.RunMaintenanceAsync();
        report.ChunksCollected.Should().Be(7);
        (await store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task A_bad_primary_copy_is_read_around_and_repaired()
    {
        await using var r = await ReplicatedStore.OpenAsync();
        var content = Streams.Bytes(4 * Chunk + 99, seed: 31);
        await r.Store.UploadBytesAsync(Container, "x", content);
        var repaired = 0;
        var chunks = ChunksOf(content);
        for (var i = 0; i < chunks.Count; i++)
        {
            var id = chunks[i];
            var primary = ReplicatedStore.PathOn(r.Replicator.Place(id, new ChunkPlacement(ReplicationStrategy.LocalRedundancy, StorageClass.Standard))[0], id);
            var good = await File.ReadAllBytesAsync(primary);
            var bad = (byte[])good.Clone();
            bad[32 + new Random(i).Next(bad.Length - 32)] ^= 0x01;
            await File.WriteAllBytesAsync(primary, bad);

            (await r.Store.DownloadBytesAsync(Container, "x")).Should().Equal(content, "the other copy is good");
            if ((await File.ReadAllBytesAsync(primary)).AsSpan().SequenceEqual(good)) repaired++;
        }

        TestContext.Out.WriteLine($"Replicas: {chunks.Count} primary copies corrupted, {repaired} repaired by the reads");
        repaired.Should().Be(chunks.Count);
        (await r.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    /// <summary>A read never touches the second copy while the first is good; the scrub must, or redundancy is lost unseen.</summary>
    [Test]
    public async Task A_bad_secondary_copy_is_found_by_the_scrub()
    {
        await using var r = await ReplicatedStore.OpenAsync();
        var content = Streams.Bytes(2 * Chunk + 99, seed: 32);
        await r.Store.UploadBytesAsync(Container, "x", content);
        var id = ChunksOf(content)[0];
        var secondary = ReplicatedStore.PathOn(r.Replicator.Place(id, new ChunkPlacement(ReplicationStrategy.LocalRedundancy, StorageClass.Standard))[1], id);
        var good = await File.ReadAllBytesAsync(secondary);
        var bad = (byte[])good.Clone();
        bad[100] ^= 0x80;
        await File.WriteAllBytesAsync(secondary, bad);

        (await r.Store.DownloadBytesAsync(Container, "x")).Should().Equal(content);
        var report = await r.Store.VerifyAsync(verifyContent: true);
        var repaired = (await File.ReadAllBytesAsync(secondary)).AsSpan().SequenceEqual(good);
        var reported = report.MissingChunks.Any(m => m.Chunk == id);
        (repaired || reported).Should().BeTrue("a content scrub must check every copy of a chunk: repair the bad one or report it");
    }

    /// <summary>A copy deleted from a node that placement names is restored from the other.</summary>
    [Test]
    public async Task A_lost_copy_is_restored()
    {
        await using var r = await ReplicatedStore.OpenAsync();
        var content = Streams.Bytes(Chunk + 99, seed: 33);
        await r.Store.UploadBytesAsync(Container, "x", content);
        var id = ChunksOf(content)[0];
        var primary = ReplicatedStore.PathOn(r.Replicator.Place(id, new ChunkPlacement(ReplicationStrategy.LocalRedundancy, StorageClass.Standard))[0], id);
        var good = await File.ReadAllBytesAsync(primary);
        File.Delete(primary);

        (await r.Store.DownloadBytesAsync(Container, "x")).Should().Equal(content, "the other copy is good");
        await r.Store.VerifyAsync(verifyContent: true);
        File.Exists(primary).Should().BeTrue("the node placement names for the chunk lost its copy; a read or the scrub must restore it");
        (await File.ReadAllBytesAsync(primary)).Should().Equal(good);
    }

    [Test]
    public async Task Both_copies_bad_is_a_DataCorruptionException()
    {
        await using var r = await ReplicatedStore.OpenAsync();
        var content = Streams.Bytes(Chunk + 99, seed: 34);
        await r.Store.UploadBytesAsync(Container, "x", content);
        var id = ChunksOf(content)[0];
        foreach (var node in r.Replicator.Nodes)
        {
            var path = ReplicatedStore.PathOn(node, id);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[^1] ^= 0xFF;
            await File.WriteAllBytesAsync(path, bytes);
        }

        var outcome = await ReadCheckedAsync(r.Store, "x", content, range: null);
        outcome.Problem.Should().BeNull();
        outcome.Failed.Should().BeTrue();
        (await r.Store.VerifyAsync(verifyContent: true)).MissingChunks.Select(m => m.Chunk).Should().Contain(id);
    }

    // ---- helpers ----

    /// <summary>Small blobs as chunk files too: these tests damage chunk files.</summary>
    private static void NoInline(BlobStorageOptions o) => o.InlineThreshold = 0;

    private static Task<IBlobStore> Open(string root, TimeProvider time) =>
        new BlobStoreBuilder(root)
            .Configure(o =>
            {
                o.ChunkSize = Chunk;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            })
            .UseTimeProvider(time)
            .OpenAsync();

    private static async Task<List<(string Name, byte[] Content)>> UploadSampleAsync(IBlobStore store)
    {
        await store.CreateContainerAsync(Container);
        var blobs = new List<(string, byte[])>
        {
            ("small", Streams.Bytes(777, seed: 1)),
            ("one-chunk", Streams.Bytes(Chunk, seed: 2)),
            ("three-and-a-bit", Streams.Bytes(3 * Chunk + 77, seed: 3)),
            ("dir/two", Streams.Bytes(2 * Chunk, seed: 4)),
            ("five", Streams.Bytes(4 * Chunk + 12345, seed: 5)),
        };
        foreach (var (name, content) in blobs) await store.UploadBytesAsync(Container, name, content);
        return blobs;
    }

    internal static List<ChunkId> ChunksOf(byte[] content) => [.. ChunkNames.Of(content, Chunk).Select(c => c.Id)];

    internal static string ChunkPath(string storeRoot, ChunkId id) => ChunkPathIn(Path.Combine(storeRoot, "chunks"), id);

    private static string ChunkPathIn(string chunkRoot, ChunkId id)
    {
        var hex = id.ToString();
        return Path.Combine(chunkRoot, hex[..2], hex);
    }

    /// <summary>Damages the file; returns what was done, or null when the damage does not apply.</summary>
    private static string? Apply(Damage damage, string path, byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        switch (damage)
        {
            case Damage.HeaderBitFlip:
                {
                    // Bytes 24-31 are reserved; a flip there leaves the chunk readable (see the test of its own).
                    var at = rng.Next(24);
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    File.WriteAllBytes(path, bytes);
                    return $"bit flip at header byte {at}";
                }

            case Damage.ContentBitFlip:
                {
                    var at = 32 + rng.Next(bytes.Length - 32);
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    File.WriteAllBytes(path, bytes);
                    return $"bit flip at byte {at}";
                }

            case Damage.ManyBitFlips:
                {
                    var count = rng.Next(2, 9);
                    for (var i = 0; i < count; i++) bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                    if (bytes.AsSpan().SequenceEqual(original)) return null;
                    File.WriteAllBytes(path, bytes);
                    return $"{count} bit flips";
                }

            case Damage.Truncate:
                {
                    var length = rng.Next(bytes.Length);
                    File.WriteAllBytes(path, bytes[..length]);
                    return $"truncated to {length} of {bytes.Length} bytes";
                }

            case Damage.Extend:
                {
                    var extra = new byte[rng.Next(1, 100)];
                    rng.NextBytes(extra);
                    File.WriteAllBytes(path, [.. bytes, .. extra]);
                    return $"{extra.Length} bytes appended";
                }

            case Damage.ZeroFill:
                File.WriteAllBytes(path, new byte[bytes.Length]);
                return "zero-filled";
            default:
                File.Delete(path);
                return "deleted";
        }
    }

    private static string Describe(BlobRange? range) =>
        range is not { } r ? "whole" : r.IsSuffix ? $"last {r.Length}" : $"{r.Offset}+{r.Length?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "end"}";

    internal sealed record ReadOutcome(bool Failed, string? Problem);

    /// <summary>Reads a download to its end or its first exception and compares every byte that came out with the truth.</summary>
    internal static async Task<ReadOutcome> ReadCheckedAsync(IBlobStore store, string name, byte[] content, BlobRange? range, string container = Container)
    {
        long offset = 0, length = content.Length;
        if (range is { } r)
        {
            if (r.IsSuffix)
            {
                length = Math.Min(r.Length!.Value, content.Length);
                offset = content.Length - length;
            }
            else
            {
                offset = r.Offset;
                length = Math.Min(r.Length ?? long.MaxValue, content.Length - offset);
            }
        }

        var expected = content.AsSpan((int)offset, (int)length).ToArray();
        using var received = new MemoryStream();
        Exception? error = null;
        try
        {
            await using var download = await store.DownloadAsync(container, name, new BlobDownloadOptions { Range = range });
            var buffer = new byte[7919];
            int n;
            while ((n = await download.Content.ReadAsync(buffer)) > 0) received.Write(buffer, 0, n);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        var got = received.ToArray();
        if (got.Length > expected.Length || !expected.AsSpan().StartsWith(got))
        {
            var at = 0;
            while (at < got.Length && at < expected.Length && got[at] == expected[at]) at++;
            return new ReadOutcome(error is not null, $"WRONG BYTES: {got.Length} bytes read, first difference at {at}{(error is null ? "" : $", then {error.GetType().Name}")}");
        }

        if (error is null)
        {
            return got.Length == expected.Length ? new ReadOutcome(false, null) : new ReadOutcome(false, $"short read: {got.Length} of {expected.Length} bytes and no exception");
        }

        return error is DataCorruptionException
            ? new ReadOutcome(true, null)
            : new ReadOutcome(true, $"threw {error.GetType().Name}, not DataCorruptionException: {error.Message}");
    }

    private static async Task<byte[]> MakeChunkFileAsync(byte[] content)
    {
        using var folder = new TempFolder("chunkfile");
        using var chunks = new FileSystemChunkStore(folder.Path);
        var id = ChunkId.Compute(content);
        await chunks.WriteAsync(id, content);
        return await File.ReadAllBytesAsync(chunks.GetPath(id));
    }

    /// <summary>A store over three nodes in one region, with a LocalRedundancy container: three copies of every chunk.</summary>
    private sealed class ReplicatedStore : IAsyncDisposable
    {
        private readonly TempFolder _folder;
        private readonly FileSystemChunkStore[] _stores;

        private ReplicatedStore(TempFolder folder, FileSystemChunkStore[] stores, RendezvousReplicator replicator, IBlobStore store)
        {
            _folder = folder;
            _stores = stores;
            Replicator = replicator;
            Store = store;
        }

        public RendezvousReplicator Replicator { get; }

        public IBlobStore Store { get; }

        public static async Task<ReplicatedStore> OpenAsync()
        {
            var folder = new TempFolder("replicas");
            FileSystemChunkStore[] stores = [new(Path.Combine(folder.Path, "node-1")), new(Path.Combine(folder.Path, "node-2")), new(Path.Combine(folder.Path, "node-3"))];
            var replicator = new RendezvousReplicator([new StorageNode("node-1", "local", stores[0]), new StorageNode("node-2", "local", stores[1]), new StorageNode("node-3", "local", stores[2])]);
            var store = await new BlobStoreBuilder(Path.Combine(folder.Path, "store"))
                .Configure(o =>
                {
                    o.ChunkSize = Chunk;
                    o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                })
                .UseReplicator(replicator)
                .UseTimeProvider(new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero)))
                .OpenAsync();
            await store.CreateContainerAsync(Container, new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
            return new ReplicatedStore(folder, stores, replicator, store);
        }

        public static string PathOn(StorageNode node, ChunkId id) => ((FileSystemChunkStore)node.Store).GetPath(id);

        public async ValueTask DisposeAsync()
        {
            await Store.DisposeAsync();
            foreach (var s in _stores) s.Dispose();
            _folder.Dispose();
        }
    }
}
