using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using BlobStorage.Abstractions;
using BlobStorage.EdgeCache;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.EdgeCache;

[Parallelizable(ParallelScope.All)]
public class MemoryEdgeCacheTests
{
    private const string Edge = "us-east-1";
    private static readonly CdnConfiguration Cdn = new() { Enabled = true, EdgeLocations = [Edge, "eu-west-1"], TimeToLive = TimeSpan.FromMinutes(10) };

    /// <summary>An origin that serves blobs from memory, counts its reads, and can be held at a gate.</summary>
    private sealed class Origin
    {
        private readonly ConcurrentDictionary<string, byte[]> _content = new();
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public List<(long Offset, long Length)> Ranges { get; } = [];

        public TaskCompletionSource? Gate { get; set; }

        public Exception? Failure { get; set; }

        public BlobProperties Put(string name, byte[] content, string version = "v1") => Put("box", name, content, version);

        public BlobProperties Put(string container, string name, byte[] content, string version)
        {
            _content[container + "/" + name + "@" + version] = content;
            return new BlobProperties
            {
                Container = container,
                Name = name,
                VersionId = version,
                ETag = "\"" + version + "\"",
                ContentHash = Streams.Sha256(content),
                Size = content.Length,
            };
        }

        public Func<long, long, CancellationToken, ValueTask<Stream>> For(BlobProperties version) => async (offset, length, cancellationToken) =>
        {
            Interlocked.Increment(ref _reads);
            lock (Ranges) Ranges.Add((offset, length));
            if (Gate is { } gate) await gate.Task.WaitAsync(cancellationToken);
            if (Failure is { } failure) throw failure;
            var bytes = _content[version.Container + "/" + version.Name + "@" + version.VersionId];
            return new MemoryStream(bytes, (int)offset, (int)length, writable: false);
        };
    }

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    private static async Task<byte[]> ReadAsync(MemoryEdgeCache cache, Origin origin, BlobProperties version, string edge = Edge, CdnConfiguration? cdn = null, long offset = 0, long? length = null)
    {
        await using var stream = await cache.ReadAsync(edge, version, cdn ?? Cdn, offset, length ?? version.Size - offset, origin.For(version));
        return await Streams.ReadAllAsync(stream);
    }

    [Test]
    public async Task A_miss_reads_the_origin_once_then_hits_serve_the_same_bytes_and_ranges()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin();
        var content = Streams.Bytes(200_000, seed: 3);
        var blob = origin.Put("a", content);

        (await ReadAsync(cache, origin, blob)).Should().Equal(content);
        (await ReadAsync(cache, origin, blob)).Should().Equal(content);
        (await ReadAsync(cache, origin, blob, offset: 65_000, length: 70_000)).Should().Equal(content.AsSpan(65_000, 70_000).ToArray());
        (await ReadAsync(cache, origin, blob, offset: 199_999, length: 1)).Should().Equal(content[^1]);
        origin.Reads.Should().Be(1);
        origin.Ranges.Should().Equal((0L, 200_000L));

        var stats = cache.GetStatistics();
        var edge = stats.Edges.Should().ContainSingle().Which;
        edge.EdgeLocation.Should().Be(Edge);
        edge.Requests.Should().Be(4);
        edge.Hits.Should().Be(3);
        edge.Misses.Should().Be(1);
        edge.OriginReads.Should().Be(1);
        edge.HitRatio.Should().Be(0.75);
        edge.BytesServed.Should().Be(200_000 + 70_000 + 1);
        edge.BlobsCached.Should().Be(1);
        edge.BytesCached.Should().Be(200_000);
        stats.Total.Should().BeEquivalentTo(edge with { EdgeLocation = null });
    }

    [Test]
    public async Task Edges_are_separate_caches_with_their_own_counts()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin();
        var blob = origin.Put("a", Streams.Bytes(1000));

        await ReadAsync(cache, origin, blob, Edge);
        await ReadAsync(cache, origin, blob, "eu-west-1");
        await ReadAsync(cache, origin, blob, "eu-west-1");
        origin.Reads.Should().Be(2);

        var stats = cache.GetStatistics();
        stats.Edges.Select(e => (e.EdgeLocation, e.Hits, e.Misses)).Should().Equal(("eu-west-1", 1L, 1L), (Edge, 0L, 1L));
        stats.Total.Requests.Should().Be(3);
        stats.Total.Hits.Should().Be(1);
        stats.Total.BlobsCached.Should().Be(2);
        stats.Total.BytesCached.Should().Be(2000);
    }

    [Test]
    public async Task An_entry_expires_exactly_at_its_time_to_live()
    {
        var clock = Clock();
        using var cache = new MemoryEdgeCache(1 << 20, clock);
        var origin = new Origin();
        var blob = origin.Put("a", Streams.Bytes(1000));

        await ReadAsync(cache, origin, blob);
        clock.Advance(Cdn.TimeToLive - TimeSpan.FromTicks(1));
        await ReadAsync(cache, origin, blob);
        origin.Reads.Should().Be(1, "the copy is fresh one tick before its TTL runs out");

        clock.Advance(TimeSpan.FromTicks(1));
        await ReadAsync(cache, origin, blob);
        origin.Reads.Should().Be(2, "at its TTL the copy has expired");
        var edge = cache.GetStatistics().Edges.Single();
        (edge.Hits, edge.Misses, edge.Evictions, edge.BlobsCached).Should().Be((1L, 2L, 1L, 1L));
    }

    [Test]
    public async Task The_least_recently_used_blob_is_evicted_at_the_byte_bound()
    {
        using var cache = new MemoryEdgeCache(3000, Clock());
        var origin = new Origin();
        var a = origin.Put("a", Streams.Bytes(1000, 1));
        var b = origin.Put("b", Streams.Bytes(1000, 2));
        var c = origin.Put("c", Streams.Bytes(1000, 3));
        var d = origin.Put("d", Streams.Bytes(1500, 4));

        await ReadAsync(cache, origin, a);
        await ReadAsync(cache, origin, b);
        await ReadAsync(cache, origin, c);
        await ReadAsync(cache, origin, a); // a is now the most recently used; b the least
        cache.GetStatistics().Total.BytesCached.Should().Be(3000);

        await ReadAsync(cache, origin, d); // needs 1500 bytes: b, then c go
        var stats = cache.GetStatistics().Total;
        (stats.BlobsCached, stats.BytesCached, stats.Evictions).Should().Be((2L, 2500L, 2L));

        var reads = origin.Reads;
        await ReadAsync(cache, origin, a);
        await ReadAsync(cache, origin, d);
        origin.Reads.Should().Be(reads, "a and d stayed");
        await ReadAsync(cache, origin, b);
        origin.Reads.Should().Be(reads + 1, "b was evicted");
        cache.GetStatistics().Total.BytesCached.Should().BeLessThanOrEqualTo(3000);
    }

    [Test]
    public async Task A_new_version_is_never_served_from_the_old_ones_copy()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin();
        var v1 = origin.Put("a", Streams.Bytes(1000, 1), "v1");
        var v2 = origin.Put("a", Streams.Bytes(1000, 2), "v2");

        (await ReadAsync(cache, origin, v1)).Should().Equal(Streams.Bytes(1000, 1));
        (await ReadAsync(cache, origin, v2)).Should().Equal(Streams.Bytes(1000, 2));

        // Same version id, new ETag (a metadata change): a new entry as well.
        var v2Changed = v2 with { ETag = "\"v2-meta\"" };
        (await ReadAsync(cache, origin, v2Changed)).Should().Equal(Streams.Bytes(1000, 2));
        origin.Reads.Should().Be(3);

        var edge = cache.GetStatistics().Edges.Single();
        (edge.BlobsCached, edge.Invalidations, edge.Hits).Should().Be((1L, 2L, 0L));
    }

    [Test]
    public async Task Invalidation_drops_one_blob_at_one_edge_or_everywhere_or_a_whole_container()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin();
        var a = origin.Put("a", Streams.Bytes(100, 1));
        var b = origin.Put("b", Streams.Bytes(100, 2));
        var other = origin.Put("other", "x", Streams.Bytes(100, 3), "v1");
        foreach (var edge in new[] { Edge, "eu-west-1" })
        {
            await ReadAsync(cache, origin, a, edge);
            await ReadAsync(cache, origin, b, edge);
            await ReadAsync(cache, origin, other, edge);
        }

        await cache.InvalidateAsync("box", "a", Edge);
        Edges(cache).Should().Equal((Edge, 2L, 1L), ("eu-west-1", 3L, 0L));

        await cache.InvalidateAsync("box", "b");
        Edges(cache).Should().Equal((Edge, 1L, 2L), ("eu-west-1", 2L, 1L));

        await cache.InvalidateAsync("box");
        Edges(cache).Should().Equal((Edge, 1L, 2L), ("eu-west-1", 1L, 2L));

        await cache.InvalidateAsync("box", "missing");
        await cache.InvalidateAsync("box", "a", "nowhere");
        cache.GetStatistics().Total.Invalidations.Should().Be(4);

        var reads = origin.Reads;
        await ReadAsync(cache, origin, other, Edge);
        await ReadAsync(cache, origin, a, "eu-west-1");
        origin.Reads.Should().Be(reads + 1, "the other container stayed; a was dropped");

        static IEnumerable<(string?, long, long)> Edges(MemoryEdgeCache cache) =>
            cache.GetStatistics().Edges.OrderBy(e => e.EdgeLocation == Edge ? 0 : 1).Select(e => (e.EdgeLocation, e.BlobsCached, e.Invalidations));
    }

    [Test]
    public async Task Concurrent_misses_for_one_version_read_the_origin_once()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var content = Streams.Bytes(150_000, 9);
        var blob = origin.Put("a", content);

        var readers = Enumerable.Range(0, 32).Select(_ => Task.Run(() => ReadAsync(cache, origin, blob))).ToList();
        while (cache.GetStatistics().Total.Misses < 32) await Task.Yield();
        origin.Reads.Should().Be(1);
        origin.Gate.SetResult();

        foreach (var bytes in await Task.WhenAll(readers)) bytes.Should().Equal(content);
        origin.Reads.Should().Be(1);
        var stats = cache.GetStatistics().Total;
        (stats.Requests, stats.Misses, stats.OriginReads, stats.BlobsCached).Should().Be((32L, 32L, 1L, 1L));
    }

    [Test]
    public async Task A_failed_origin_read_reaches_every_waiter_and_is_not_kept()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), Failure = new IOException("origin down") };
        var blob = origin.Put("a", Streams.Bytes(1000));

        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() => ReadAsync(cache, origin, blob))).ToList();
        while (cache.GetStatistics().Total.Misses < 4) await Task.Yield();
        origin.Gate.SetResult();
        foreach (var reader in readers) await FluentActions.Awaiting(() => reader).Should().ThrowAsync<IOException>().WithMessage("origin down");
        origin.Reads.Should().Be(1);

        origin.Failure = null;
        (await ReadAsync(cache, origin, blob)).Should().Equal(Streams.Bytes(1000));
        origin.Reads.Should().Be(2);
        cache.GetStatistics().Total.BlobsCached.Should().Be(1);
    }

    [Test]
    public async Task A_waiter_that_cancels_does_not_cancel_the_shared_origin_read()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var blob = origin.Put("a", Streams.Bytes(1000));
        using var cancel = new CancellationTokenSource();

        var cancelled = cache.ReadAsync(Edge, blob, Cdn, 0, blob.Size, origin.For(blob), cancel.Token).AsTask();
        var patient = ReadAsync(cache, origin, blob);
        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => cancelled).Should().ThrowAsync<OperationCanceledException>();

        origin.Gate.SetResult();
        (await patient).Should().Equal(Streams.Bytes(1000));
        origin.Reads.Should().Be(1);
        cache.GetStatistics().Total.BlobsCached.Should().Be(1);
    }

    [Test]
    public async Task A_blob_over_the_cacheable_size_streams_its_range_from_the_origin_every_time()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var origin = new Origin();
        var content = Streams.Bytes(10_000, 5);
        var blob = origin.Put("big", content);
        var cdn = new CdnConfiguration { Enabled = true, EdgeLocations = [Edge], MaxCacheableSize = 9_999 };

        (await ReadAsync(cache, origin, blob, cdn: cdn, offset: 100, length: 50)).Should().Equal(content.AsSpan(100, 50).ToArray());
        (await ReadAsync(cache, origin, blob, cdn: cdn)).Should().Equal(content);
        origin.Ranges.Should().Equal((100L, 50L), (0L, 10_000L));
        var stats = cache.GetStatistics().Total;
        (stats.Misses, stats.OriginReads, stats.BlobsCached, stats.BytesServed).Should().Be((2L, 2L, 0L, 0L));

        // Larger than a whole edge holds, or a zero TTL: not kept either.
        using var small = new MemoryEdgeCache(9_999, Clock());
        await ReadAsync(small, origin, blob);
        small.GetStatistics().Total.BlobsCached.Should().Be(0);
        await ReadAsync(cache, origin, blob, cdn: new CdnConfiguration { Enabled = true, EdgeLocations = [Edge], TimeToLive = TimeSpan.Zero });
        cache.GetStatistics().Total.BlobsCached.Should().Be(0);
    }

    [Test]
    public async Task Statistics_are_exact_under_concurrency_and_reach_the_meter()
    {
        using var cache = new MemoryEdgeCache(1 << 20, Clock());
        var measured = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == cache.Metrics.Meter) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags) key += "|" + tag.Key + "=" + tag.Value;
            measured.AddOrUpdate(key, value, (_, sum) => sum + value);
        });
        listener.Start();

        var origin = new Origin();
        var blobs = Enumerable.Range(0, 8).Select(i => origin.Put("b" + i, Streams.Bytes(100, i), "v1")).ToArray();
        string[] edges = [Edge, "eu-west-1"];
        const int Tasks = 8, ReadsPerTask = 400;
        long bytesRead = 0;
        await Task.WhenAll(Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < ReadsPerTask; i++)
            {
                var blob = blobs[(i * 7 + t) % blobs.Length];
                var bytes = await ReadAsync(cache, origin, blob, edges[i % 2]);
                Interlocked.Add(ref bytesRead, bytes.Length);
            }
        })));

        var stats = cache.GetStatistics();
        stats.Total.Requests.Should().Be(Tasks * ReadsPerTask);
        stats.Edges.Should().AllSatisfy(e => e.Requests.Should().Be(Tasks * ReadsPerTask / 2));
        stats.Total.Misses.Should().BeGreaterThanOrEqualTo(16);
        stats.Total.OriginReads.Should().Be(origin.Reads).And.Be(16, "each of 8 blobs is read once per edge: concurrent misses share the read");
        stats.Total.BlobsCached.Should().Be(16);

        // Every blob is 100 bytes: hits served exactly 100 bytes each, and every read returned its blob whole.
        bytesRead.Should().Be(Tasks * ReadsPerTask * 100L);
        stats.Total.BytesServed.Should().Be(stats.Total.Hits * 100);
        stats.Edges.Sum(e => e.Hits).Should().Be(stats.Total.Hits);

        listener.RecordObservableInstruments();
        measured.Where(m => m.Key.StartsWith("blobstorage.edge.requests", StringComparison.Ordinal)).Sum(m => m.Value).Should().Be(Tasks * ReadsPerTask);
        measured.Where(m => m.Key.StartsWith("blobstorage.edge.requests", StringComparison.Ordinal) && m.Key.Contains("blobstorage.edge.result=hit", StringComparison.Ordinal))
            .Sum(m => m.Value).Should().Be(stats.Total.Hits);
        measured.Where(m => m.Key.StartsWith("blobstorage.edge.io", StringComparison.Ordinal)).Sum(m => m.Value).Should().Be(stats.Total.BytesServed);
        measured.Should().ContainKey($"blobstorage.edge.blob.usage|blobstorage.edge.location={Edge}");
    }

    [Test]
    public async Task Arguments_are_checked()
    {
        using var cache = new MemoryEdgeCache(1000, Clock());
        var origin = new Origin();
        var blob = origin.Put("a", Streams.Bytes(10));
        await FluentActions.Awaiting(() => cache.ReadAsync("Bad Edge", blob, Cdn, 0, 10, origin.For(blob)).AsTask()).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => cache.ReadAsync(Edge, blob, Cdn, 5, 6, origin.For(blob)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new MemoryEdgeCache(0, Clock())).Should().Throw<ArgumentOutOfRangeException>();
        origin.Reads.Should().Be(0);
    }
}
