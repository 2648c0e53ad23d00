using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Concurrency;

/// <summary>A store closed and opened again, as a restarted process would, has everything it had.</summary>
[TestFixture]
public sealed class RestartTests
{
    private const int ChunkSize = TestStore.ChunkSize;

    [Test]
    [CancelAfter(60_000)]
    public async Task Blobs_properties_and_statistics_survive_a_restart_unchanged(CancellationToken cancellationToken)
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        var contents = new Dictionary<(string Container, string Name), byte[]>();

        await store.CreateContainerAsync("docs", cancellationToken: cancellationToken);
        await store.CreateContainerAsync(
            "media",
            new ContainerOptions { DefaultStorageClass = StorageClass.InfrequentAccess, ReplicationStrategy = ReplicationStrategy.Single, AccessPolicy = AccessPolicy.Public },
            cancellationToken);

        async Task UploadAsync(string container, string name, byte[] content, BlobUploadOptions? options = null)
        {
            // Time moves by an odd number of ticks between writes, so timestamps must keep their precision.
            test.Time.Advance(TimeSpan.FromTicks(12_345_677));
            await store.UploadBytesAsync(container, name, content, options);
            contents[(container, name)] = content;
        }

        await UploadAsync("docs", "empty", []);
        await UploadAsync("docs", "one-byte", [7]);
        await UploadAsync("docs", "readme.txt", Streams.Bytes(1000, seed: 1), new BlobUploadOptions
        {
            ContentType = "text/plain; charset=utf-8",
            Tags = new Dictionary<string, string> { ["project"] = "blob", ["stage"] = "draft" },
            Metadata = new Dictionary<string, string> { ["Author"] = "ada", ["Reviewed"] = "no" },
        });
        await UploadAsync("docs", "dir/exact-chunk", Streams.Bytes(ChunkSize, seed: 2));
        await UploadAsync("docs", "dir/sub/multi-chunk", Streams.Bytes((3 * ChunkSize) + 5, seed: 3), new BlobUploadOptions { StorageClass = StorageClass.Archive });
        await UploadAsync("media", "é/photo", Streams.Bytes((2 * ChunkSize) + 17, seed: 4), new BlobUploadOptions { Tags = new Dictionary<string, string> { ["kind"] = "photo" } });
        await UploadAsync("media", "doomed", Streams.Bytes(5000, seed: 5));
        await UploadAsync("docs", "overwritten", Streams.Bytes(ChunkSize + 1, seed: 6));
        await UploadAsync("docs", "overwritten", Streams.Bytes(300, seed: 7));

        test.Time.Advance(TimeSpan.FromTicks(7_654_321));
        await store.CopyAsync("docs", "dir/sub/multi-chunk", "docs", "copy-within", cancellationToken: cancellationToken);
        contents[("docs", "copy-within")] = contents[("docs", "dir/sub/multi-chunk")];
        await store.CopyAsync("docs", "readme.txt", "media", "copy-across", new BlobCopyOptions { Tags = new Dictionary<string, string> { ["copied"] = "yes" } }, cancellationToken);
        contents[("media", "copy-across")] = contents[("docs", "readme.txt")];

        test.Time.Advance(TimeSpan.FromTicks(3_333_333));
        await store.UpdateMetadataAsync("docs", "readme.txt", new BlobMetadataUpdate
        {
            Tags = new Dictionary<string, string?> { ["stage"] = "final", ["project"] = null },
            Metadata = new Dictionary<string, string?> { ["Reviewed"] = "yes" },
        }, cancellationToken);
        await store.DeleteAsync("media", "doomed", cancellationToken: cancellationToken);
        contents.Remove(("media", "doomed"));

        // Downloads bump access counts, written behind in batches; the restart must not lose them.
        test.Time.Advance(TimeSpan.FromTicks(1_111_111));
        await store.DownloadBytesAsync("docs", "readme.txt");
        await store.DownloadBytesAsync("docs", "readme.txt");
        await store.DownloadBytesAsync("media", "é/photo", new BlobDownloadOptions { Range = new BlobRange(ChunkSize - 10, 20) });

        var before = await SnapshotAsync(store, cancellationToken);
        before.Blobs[("docs", "readme.txt")].AccessCount.Should().Be(2);
        before.Blobs[("media", "é/photo")].AccessCount.Should().Be(1);
        before.Blobs.Keys.Should().BeEquivalentTo(contents.Keys);

        await test.ReopenAsync();
        store = test.Store;

        var after = await SnapshotAsync(store, cancellationToken);
        after.Containers.Should().BeEquivalentTo(before.Containers, o => o.WithStrictOrdering(), "containers keep their options and creation time");
        after.Blobs.Keys.Should().BeEquivalentTo(before.Blobs.Keys);
        foreach (var (key, properties) in before.Blobs)
        {
            after.Blobs[key].Should().BeEquivalentTo(properties, $"'{key.Name}' in '{key.Container}' keeps every property (ETag, version, hash, tags, metadata, access count, times)");
        }

        after.Statistics.Should().BeEquivalentTo(before.Statistics, "the totals are kept across a restart");

        foreach (var ((container, name), content) in contents)
        {
            (await store.DownloadBytesAsync(container, name)).Should().Equal(content, $"'{name}' in '{container}' reads back byte for byte");
        }

        var report = await store.VerifyAsync(verifyContent: true, cancellationToken);
        report.IsClean.Should().BeTrue(Describe(report));
        report.BlobsChecked.Should().Be(contents.Count);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Timestamps_read_after_a_restart_are_those_the_write_returned(CancellationToken cancellationToken)
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("times", cancellationToken: cancellationToken);
        test.Time.Advance(TimeSpan.FromTicks(1_234_567));
        var uploaded = await test.Store.UploadBytesAsync("times", "blob", [1, 2, 3]);
        uploaded.LastModified.Should().Be(test.Time.GetUtcNow(), "the store stamps writes with its clock");
        uploaded.CreatedOn.Should().Be(test.Time.GetUtcNow());

        await test.ReopenAsync();
        var read = await test.Store.GetPropertiesAsync("times", "blob", cancellationToken);
        read.LastModified.Should().Be(uploaded.LastModified, "a timestamp is stored as it was returned, to the tick");
        read.CreatedOn.Should().Be(uploaded.CreatedOn);

        // A condition built from the returned time holds against the stored one.
        var conditions = new BlobRequestConditions { IfUnmodifiedSince = uploaded.LastModified };
        await test.Store.DeleteAsync("times", "blob", conditions, cancellationToken);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Leftover_temporary_files_and_orphan_chunks_are_removed_at_open(CancellationToken cancellationToken)
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("kept", cancellationToken: cancellationToken);
        var content = Streams.Bytes((2 * ChunkSize) + 3, seed: 9);
        await store.UploadBytesAsync("kept", "blob", content);
        var chunks = Path.Combine(test.RootPath, "chunks");
        var storedBefore = ChunkFiles(chunks);
        storedBefore.Should().HaveCount(3, "a blob of two chunks and a tail is three chunk files");

        // The process "crashes": a chunk written but never committed, and temporary files of writes under way.
        await store.DisposeAsync();
        var orphanId = ChunkId.Compute(Streams.Bytes(1234, seed: 10)).ToString();
        var orphanFolder = Path.Combine(chunks, orphanId[..2]);
        Directory.CreateDirectory(orphanFolder);
        var orphan = Path.Combine(orphanFolder, orphanId);
        await File.WriteAllBytesAsync(orphan, Streams.Bytes(1234, seed: 10), cancellationToken);

        // Written longer than the grace period ago (by the store's clock): the crash is long past.
        FileClock.SetWrittenAt(orphan, test.Time.GetUtcNow() - TimeSpan.FromMinutes(16));
        var temporary = Path.Combine(chunks, ".tmp");
        Directory.CreateDirectory(temporary);
        var leftovers = new[] { Path.Combine(temporary, Guid.NewGuid().ToString("N") + ".tmp"), Path.Combine(temporary, orphanId + ".partial") };
        foreach (var leftover in leftovers) await File.WriteAllBytesAsync(leftover, Streams.Bytes(4096, seed: 11), cancellationToken);

        await test.ReopenAsync();
        store = test.Store;

        File.Exists(orphan).Should().BeFalse("a chunk file no metadata refers to is removed when the store opens");
        foreach (var leftover in leftovers) File.Exists(leftover).Should().BeFalse($"the temporary file {Path.GetFileName(leftover)} of an interrupted write is removed when the store opens");
        ChunkFiles(chunks).Should().BeEquivalentTo(storedBefore, "the committed chunks stay");
        (await store.DownloadBytesAsync("kept", "blob")).Should().Equal(content);
        var report = await store.VerifyAsync(verifyContent: true, cancellationToken);
        report.IsClean.Should().BeTrue(Describe(report));
        report.ChunksChecked.Should().Be(3);
    }

    private sealed record Snapshot(
        IReadOnlyList<ContainerProperties> Containers,
        IReadOnlyDictionary<(string Container, string Name), BlobProperties> Blobs,
        BlobStatistics Statistics);

    private static async Task<Snapshot> SnapshotAsync(IBlobStore store, CancellationToken cancellationToken)
    {
        var containers = new List<ContainerProperties>();
        await foreach (var container in store.ListContainersAsync(cancellationToken: cancellationToken)) containers.Add(container);
        var blobs = new Dictionary<(string, string), BlobProperties>();
        foreach (var container in containers)
        {
            string? token = null;
            do
            {
                var page = await store.ListAsync(container.Name, new BlobListOptions { ContinuationToken = token, Include = BlobListTraits.All }, cancellationToken);
                foreach (var listed in page.Blobs)
                {
                    var properties = await store.GetPropertiesAsync(container.Name, listed.Name, cancellationToken);
                    listed.Should().BeEquivalentTo(properties, "a listing with every trait shows the same properties as GetProperties");
                    blobs[(container.Name, listed.Name)] = properties;
                }

                token = page.ContinuationToken;
            }
            while (token is not null);
        }

        return new Snapshot(containers, blobs, await store.GetStatisticsAsync(cancellationToken));
    }

    /// <summary>The chunk files (<c>ab/abcd…</c>) under the chunks folder, relative to it; not the lock or temporary files.</summary>
    private static List<string> ChunkFiles(string chunks) =>
    [
        .. Directory.EnumerateFiles(chunks, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(chunks, f))
            .Where(f => Path.GetDirectoryName(f) is { Length: 2 } shard && !shard.StartsWith('.'))
            .Order(StringComparer.Ordinal),
    ];

    private static string Describe(VerificationReport report) =>
        $"verification must be clean: missing [{string.Join(", ", report.MissingChunks)}], unreferenced [{string.Join(", ", report.UnreferencedChunks)}], miscounted [{string.Join(", ", report.ReferenceCountMismatches)}]";
}
