using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Contracts;

/// <summary>
/// What every <see cref="IMetadataStore"/> must do. An implementation adds a small derived fixture
/// that says how to make an empty store and how to reopen the same storage, as a restarted process would.
/// </summary>
public abstract partial class MetadataStoreContractTests
{
    protected const string Box = "box";
    protected static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static int s_sequence;

    /// <summary>The store under test: made in SetUp, replaced by <see cref="ReopenStoreAsync"/>, disposed in TearDown.</summary>
    protected IMetadataStore Store { get; private set; } = null!;

    /// <summary>A new, initialized store over empty storage of its own.</summary>
    protected abstract ValueTask<IMetadataStore> CreateStoreAsync();

    /// <summary>Disposes <see cref="Store"/> and opens (and initializes) a new store over the same storage.</summary>
    protected abstract ValueTask<IMetadataStore> ReopenAsync();

    [SetUp]
    public async Task CreateStoreForTestAsync() => Store = await CreateStoreAsync();

    [TearDown]
    public async Task DisposeStoreAfterTestAsync()
    {
        // Disposing twice is part of the contract: a derived fixture may have disposed it already.
        if (Store is not null) await Store.DisposeAsync();
    }

    protected async Task ReopenStoreAsync() => Store = await ReopenAsync();

    /// <summary>
    /// How many blobs the enumeration test commits: enough to span several of the store's pages. A fixture
    /// whose store reads small pages can lower it to keep the test quick.
    /// </summary>
    protected virtual int EnumerationBlobCount => 1100;

    protected static DateTimeOffset T(int minutes) => T0.AddMinutes(minutes);

    protected static ChunkReference Chunk(int seed, int length = 1000) =>
        new(ChunkId.Compute(Encoding.UTF8.GetBytes("chunk-" + seed.ToString(CultureInfo.InvariantCulture))), length);

    protected static string Hash(int seed) => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(seed)));

    protected static BlobRecord Blob(string container, string name, DateTimeOffset now, params ChunkReference[] chunks) =>
        BlobWith(container, name, now, chunks);

    protected static BlobRecord BlobWith(
        string container,
        string name,
        DateTimeOffset now,
        IReadOnlyList<ChunkReference> chunks,
        IReadOnlyDictionary<string, string>? tags = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        string contentType = "application/octet-stream",
        StorageClass storageClass = StorageClass.Standard,
        byte[]? inline = null)
    {
        var n = Interlocked.Increment(ref s_sequence);
        return new BlobRecord(
            new BlobProperties
            {
                Container = container,
                Name = name,
                VersionId = "v" + n.ToString("D8", CultureInfo.InvariantCulture),
                Size = inline?.Length ?? chunks.Sum(c => (long)c.Length),
                ContentType = contentType,
                ETag = "\"e" + n.ToString("D8", CultureInfo.InvariantCulture) + "\"",
                ContentHash = inline is null ? Hash(n) : Convert.ToHexStringLower(SHA256.HashData(inline)),
                StorageClass = storageClass,
                CreatedOn = now,
                LastModified = now,
                Tags = tags ?? new Dictionary<string, string>(),
                Metadata = metadata ?? new Dictionary<string, string>(),
            },
            chunks)
        {
            InlineContent = inline is null ? null : (ReadOnlyMemory<byte>?)inline,
        };
    }

    protected Task CreateContainerAsync(string name = Box, DateTimeOffset? now = null) =>
        Store.CreateContainerAsync(new ContainerProperties { Name = name, CreatedOn = now ?? T0 }).AsTask();

    protected Task<BlobRecord> CommitAsync(BlobRecord blob, BlobRequestConditions? conditions = null) =>
        Store.CommitBlobAsync(blob, conditions).AsTask();

    /// <summary>Every chunk row: its length and reference count.</summary>
    protected async Task<Dictionary<ChunkId, (int Length, long References)>> ChunksAsync()
    {
        var chunks = new Dictionary<ChunkId, (int, long)>();
        await foreach (var chunk in Store.EnumerateChunksAsync()) chunks.Add(chunk.Id, (chunk.Length, chunk.ReferenceCount));
        return chunks;
    }

    protected async Task<long?> ReferencesAsync(ChunkReference chunk) =>
        (await ChunksAsync()).TryGetValue(chunk.Id, out var row) ? row.References : null;

    /// <summary>Everything a caller can observe, as text, to show that a failed call changed nothing.</summary>
    protected async Task<List<string>> DescribeAsync()
    {
        var lines = new List<string>();
        var s = await Store.GetStatisticsAsync();
        lines.Add($"stats {s.TotalBlobs} {s.TotalBytes} {s.StoredBytes} {s.ChunkCount} {s.ReadOperations} {s.WriteOperations} {s.DeleteOperations} {s.BytesRead} {s.BytesWritten}");
        lines.AddRange(s.Containers.Select(c => $"container {c.Name} {c.BlobCount} {c.TotalBytes}"));
        lines.AddRange((await Store.ListContainersAsync()).Select(c => $"container {c.Name} {c.DefaultStorageClass} {c.ReplicationStrategy} {c.AccessPolicy} {c.CreatedOn.UtcTicks}"));
        await foreach (var b in Store.EnumerateBlobsAsync())
        {
            var p = b.Properties;
            lines.Add($"blob {p.Container}/{p.Name} {p.VersionId} {p.ETag} {p.Size} {p.ContentType} {p.ContentHash} {p.StorageClass} {p.CreatedOn.UtcTicks} {p.LastModified.UtcTicks} " +
                $"{p.AccessCount} {p.LastAccessedOn?.UtcTicks} {p.PartCount} [{string.Join(",", p.Tags.Select(t => t.Key + "=" + t.Value))}] " +
                $"[{string.Join(",", p.Metadata.Select(t => t.Key + "=" + t.Value))}] {string.Join(",", b.Chunks.Select(c => c.Id + ":" + c.Length))}");
        }

        await foreach (var c in Store.EnumerateChunksAsync()) lines.Add($"chunk {c.Id} {c.Length} {c.ReferenceCount}");
        lines.AddRange((await Store.GetCollectableChunksAsync(DateTimeOffset.MaxValue, 10_000)).Select(c => $"collectable {c.Id}"));
        await foreach (var p in Store.EnumeratePartsAsync()) lines.Add($"part {p.UploadId} {p.Part.PartNumber} {p.Part.ETag} {string.Join(",", p.Chunks.Select(c => c.Id))}");
        return lines;
    }

    protected async Task ShouldChangeNothingAsync(Func<Task> act, Type expected)
    {
        var before = await DescribeAsync();
        var thrown = await FluentActions.Awaiting(act).Should().ThrowAsync<Exception>();
        thrown.Which.Should().BeOfType(expected);
        (await DescribeAsync()).Should().Equal(before, "a failed call changes nothing");
    }

    // ---------------------------------------------------------------- containers

    [Test]
    public async Task Containers_round_trip_and_list_in_ordinal_order()
    {
        var created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2));
        await Store.CreateContainerAsync(new ContainerProperties
        {
            Name = "zeta",
            DefaultStorageClass = StorageClass.Archive,
            ReplicationStrategy = ReplicationStrategy.CrossRegion,
            AccessPolicy = AccessPolicy.Public,
            CreatedOn = created,
        });
        await CreateContainerAsync("alpha");
        await CreateContainerAsync("a-b");

        var zeta = await Store.GetContainerAsync("zeta");
        zeta.Should().NotBeNull();
        zeta!.Name.Should().Be("zeta");
        zeta.DefaultStorageClass.Should().Be(StorageClass.Archive);
        zeta.ReplicationStrategy.Should().Be(ReplicationStrategy.CrossRegion);
        zeta.AccessPolicy.Should().Be(AccessPolicy.Public);
        zeta.CreatedOn.Should().Be(created);
        zeta.CreatedOn.Offset.Should().Be(TimeSpan.Zero);

        (await Store.ListContainersAsync()).Select(c => c.Name).Should().Equal("a-b", "alpha", "zeta");
        (await Store.GetContainerAsync("missing")).Should().BeNull();
    }

    [Test]
    public async Task Creating_a_container_twice_fails_and_keeps_the_first()
    {
        await Store.CreateContainerAsync(new ContainerProperties { Name = Box, AccessPolicy = AccessPolicy.Public, CreatedOn = T0 });
        var act = () => Store.CreateContainerAsync(new ContainerProperties { Name = Box, CreatedOn = T(1) }).AsTask();
        (await act.Should().ThrowAsync<ContainerAlreadyExistsException>()).Which.ErrorCode.Should().Be(BlobErrorCode.ContainerAlreadyExists);
        var box = await Store.GetContainerAsync(Box);
        box!.AccessPolicy.Should().Be(AccessPolicy.Public);
        box.CreatedOn.Should().Be(T0);
    }

    [Test]
    public async Task Deleting_a_container_checks_existence_and_contents()
    {
        await FluentActions.Awaiting(() => Store.DeleteContainerAsync("missing", deleteContents: true, T0).AsTask())
            .Should().ThrowAsync<ContainerNotFoundException>();

        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        await ShouldChangeNothingAsync(() => Store.DeleteContainerAsync(Box, deleteContents: false, T(1)).AsTask(), typeof(ContainerNotEmptyException));

        await CreateContainerAsync("empty");
        await Store.DeleteContainerAsync("empty", deleteContents: false, T(1));
        (await Store.GetContainerAsync("empty")).Should().BeNull();
        (await Store.ListContainersAsync()).Select(c => c.Name).Should().Equal(Box);
    }

    [Test]
    public async Task Deleting_a_container_with_contents_releases_every_chunk()
    {
        await CreateContainerAsync();
        await CreateContainerAsync("other");
        await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2)));
        await CommitAsync(Blob(Box, "b", T0, Chunk(2), Chunk(3, 500)));
        await CommitAsync(Blob("other", "c", T0, Chunk(3, 500)));

        await Store.DeleteContainerAsync(Box, deleteContents: true, T(5));

        (await Store.GetContainerAsync(Box)).Should().BeNull();
        (await Store.GetBlobAsync(Box, "a")).Should().BeNull();
        var chunks = await ChunksAsync();
        chunks[Chunk(1).Id].References.Should().Be(0);
        chunks[Chunk(2).Id].References.Should().Be(0);
        chunks[Chunk(3).Id].References.Should().Be(1, "the other container still uses it");
        (await Store.GetCollectableChunksAsync(T(5).AddTicks(1), 10)).Select(c => c.Id).Should().BeEquivalentTo([Chunk(1).Id, Chunk(2).Id]);

        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(500);
        stats.StoredBytes.Should().Be(500);
        stats.ChunkCount.Should().Be(1);
        stats.DeleteOperations.Should().Be(2);
        stats.Containers.Select(c => c.Name).Should().Equal("other");

        // The name is free again, and a new container of that name starts empty.
        await CreateContainerAsync();
        (await Store.ListBlobsAsync(Box, new BlobListQuery())).Blobs.Should().BeEmpty();
    }

    [Test]
    public async Task Blob_operations_on_a_missing_container_fail_with_ContainerNotFound()
    {
        await FluentActions.Awaiting(() => CommitAsync(Blob("nope", "a", T0, Chunk(1)))).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => Store.DeleteBlobAsync("nope", "a", null, T0).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => Store.ListBlobsAsync("nope", new BlobListQuery()).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => Store.UpdateBlobMetadataAsync("nope", "a", new BlobMetadataUpdate { Tags = new Dictionary<string, string?>() }, "\"x\"", T0).AsTask())
            .Should().ThrowAsync<ContainerNotFoundException>();
        (await Store.GetBlobAsync("nope", "a")).Should().BeNull();
        (await ChunksAsync()).Should().BeEmpty("a failed commit counts no reference");
    }

    // ---------------------------------------------------------------- commit and get

    [Test]
    public async Task Commit_and_get_round_trip_every_property_and_the_chunk_list()
    {
        await CreateContainerAsync();
        var tags = new Dictionary<string, string> { ["zeta"] = "1", ["alpha"] = "two words", ["m"] = "" };
        var metadata = new Dictionary<string, string> { ["Owner"] = "Zoë", ["b_2"] = "x\"y\\z", ["a"] = "😀" };
        var chunks = new[] { Chunk(1, 4096), Chunk(2, 1), Chunk(3, 0), Chunk(4, 65536) };
        var local = new DateTimeOffset(2026, 11, 25, 14, 0, 0, TimeSpan.FromHours(2));
        var blob = new BlobRecord(
            new BlobProperties
            {
                Container = Box,
                Name = "dir/naïve 😀.txt",
                VersionId = "0193a1b2c3d4e5f60718293a4b5c6d7e",
                Size = 4096 + 1 + 0 + 65536,
                ContentType = "text/plain; charset=utf-8",
                ETag = "\"0x0123456789ABCDEF\"",
                ContentHash = Hash(42),
                StorageClass = StorageClass.InfrequentAccess,
                CreatedOn = local,
                LastModified = local.AddSeconds(1),
                PartCount = 0,
                Tags = tags,
                Metadata = metadata,
            },
            chunks);

        var stored = await CommitAsync(blob);
        var read = await Store.GetBlobAsync(Box, "dir/naïve 😀.txt");

        foreach (var record in new[] { stored, read! })
        {
            record.Should().NotBeNull();
            var p = record.Properties;
            p.Should().BeEquivalentTo(blob.Properties, o => o.ComparingRecordsByMembers().Excluding(x => x.Tags).Excluding(x => x.Metadata));
            p.CreatedOn.Should().Be(local);
            p.LastModified.Should().Be(local.AddSeconds(1));
            p.AccessCount.Should().Be(0);
            p.LastAccessedOn.Should().BeNull();
            p.Tags.Should().Equal(tags);
            p.Tags.Keys.Should().Equal("zeta", "alpha", "m");
            p.Metadata.Should().Equal(metadata);
            p.Metadata.Keys.Should().Equal("Owner", "b_2", "a");
            record.Chunks.Should().Equal(chunks);
        }

        read!.Properties.CreatedOn.Offset.Should().Be(TimeSpan.Zero);
        read.Properties.LastModified.Offset.Should().Be(TimeSpan.Zero);
        read.Properties.Tags.Should().NotContainKey("ZETA", "tag keys are ordinal");
        (await Store.GetBlobAsync(Box, "dir/NAÏVE 😀.txt")).Should().BeNull("names are case-sensitive");
        (await Store.GetBlobAsync(Box, "dir/nai\u0308ve 😀.txt")).Should().BeNull("names are not normalized");
        (await Store.GetBlobAsync(Box, "dir")).Should().BeNull();
    }

    [Test]
    public async Task An_empty_blob_has_an_empty_chunk_list()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "empty", T0));
        var read = await Store.GetBlobAsync(Box, "empty");
        read!.Chunks.Should().BeEmpty();
        read.Properties.Size.Should().Be(0);
        (await Store.GetStatisticsAsync()).TotalBlobs.Should().Be(1);
    }

    [Test]
    public async Task Overwrite_keeps_CreatedOn_changes_ETag_and_releases_the_old_chunks()
    {
        await CreateContainerAsync();
        var first = await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2)));
        var second = await CommitAsync(Blob(Box, "a", T(10), Chunk(2, 1000), Chunk(3, 300)));

        second.Properties.CreatedOn.Should().Be(T0, "creation time is kept across overwrites");
        second.Properties.LastModified.Should().Be(T(10));
        second.Properties.ETag.Should().NotBe(first.Properties.ETag);
        second.Properties.VersionId.Should().NotBe(first.Properties.VersionId);
        var read = await Store.GetBlobAsync(Box, "a");
        read!.Properties.CreatedOn.Should().Be(T0);
        read.Properties.ETag.Should().Be(second.Properties.ETag);
        read.Chunks.Should().Equal(Chunk(2, 1000), Chunk(3, 300));

        var chunks = await ChunksAsync();
        chunks[Chunk(1).Id].References.Should().Be(0);
        chunks[Chunk(2).Id].References.Should().Be(1);
        chunks[Chunk(3).Id].References.Should().Be(1);
        (await Store.GetCollectableChunksAsync(T(10).AddTicks(1), 10)).Should().Equal(Chunk(1));
        (await Store.GetCollectableChunksAsync(T(10), 10)).Should().BeEmpty("it became unreferenced at the overwrite's time");

        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(1300);
        stats.StoredBytes.Should().Be(1300);
        stats.ChunkCount.Should().Be(2);
        stats.WriteOperations.Should().Be(2);
        stats.BytesWritten.Should().Be(2000 + 1300);
    }

    [Test]
    public async Task Chunks_shared_across_blobs_are_counted_once()
    {
        await CreateContainerAsync();
        await CreateContainerAsync("other");
        await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2)));
        await CommitAsync(Blob(Box, "b", T0, Chunk(2), Chunk(3)));
        await CommitAsync(Blob("other", "c", T0, Chunk(1), Chunk(2), Chunk(3)));

        var chunks = await ChunksAsync();
        chunks[Chunk(1).Id].Should().Be((1000, 2L));
        chunks[Chunk(2).Id].Should().Be((1000, 3L));
        chunks[Chunk(3).Id].Should().Be((1000, 2L));
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBytes.Should().Be(7000);
        stats.StoredBytes.Should().Be(3000);
        stats.ChunkCount.Should().Be(3);

        await Store.DeleteBlobAsync(Box, "a", null, T(1));
        await Store.DeleteBlobAsync("other", "c", null, T(1));
        chunks = await ChunksAsync();
        chunks[Chunk(1).Id].References.Should().Be(0);
        chunks[Chunk(2).Id].References.Should().Be(1);
        chunks[Chunk(3).Id].References.Should().Be(1);
        stats = await Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(2000);
        stats.ChunkCount.Should().Be(2);
    }

    [Test]
    public async Task A_chunk_listed_twice_in_one_blob_counts_two_references()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2), Chunk(1), Chunk(1)));
        var chunks = await ChunksAsync();
        chunks[Chunk(1).Id].References.Should().Be(3);
        chunks[Chunk(2).Id].References.Should().Be(1);
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBytes.Should().Be(4000);
        stats.StoredBytes.Should().Be(2000);
        stats.ChunkCount.Should().Be(2);
        (await Store.GetBlobAsync(Box, "a"))!.Chunks.Should().Equal(Chunk(1), Chunk(2), Chunk(1), Chunk(1));

        // An overwrite that keeps one of the three releases exactly two.
        await CommitAsync(Blob(Box, "a", T(1), Chunk(1)));
        (await ReferencesAsync(Chunk(1))).Should().Be(1);
        (await ReferencesAsync(Chunk(2))).Should().Be(0);

        await Store.DeleteBlobAsync(Box, "a", null, T(2));
        (await ReferencesAsync(Chunk(1))).Should().Be(0);
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(0);
    }

    [Test]
    public async Task A_chunk_awaiting_collection_comes_back_to_life_when_referenced_again()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        await Store.DeleteBlobAsync(Box, "a", null, T(1));
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(0);

        await CommitAsync(Blob(Box, "b", T(2), Chunk(1)));
        (await ReferencesAsync(Chunk(1))).Should().Be(1);
        (await Store.GetCollectableChunksAsync(DateTimeOffset.MaxValue, 10)).Should().BeEmpty();
        var stats = await Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(1000);
        stats.ChunkCount.Should().Be(1);
    }

    // ---------------------------------------------------------------- inline content

    protected static BlobRecord Inline(string container, string name, DateTimeOffset now, byte[] content) =>
        BlobWith(container, name, now, [], inline: content);

    [Test]
    public async Task A_small_blob_kept_inline_round_trips_and_counts_as_stored_once()
    {
        await CreateContainerAsync();
        var content = Encoding.UTF8.GetBytes("hello, inline world");
        var stored = await CommitAsync(Inline(Box, "small", T0, content));
        stored.InlineContent.ToArrayOrNull().Should().Equal(content);
        var read = await Store.GetBlobAsync(Box, "small");
        read!.InlineContent.ToArrayOrNull().Should().Equal(content);
        read.Chunks.Should().BeEmpty();
        read.Properties.Size.Should().Be(content.Length);
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(content.Length);

        // A copy shares the content: stored once, readable from both, and either may go first.
        await Store.CopyBlobAsync(Copy(Box, "small", Box, "copy", T(1)));
        (await Store.GetBlobAsync(Box, "copy"))!.InlineContent.ToArrayOrNull().Should().Equal(content);
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(content.Length);
        await Store.CopyBlobAsync(Copy(Box, "copy", Box, "copy", T(2)));
        (await Store.GetBlobAsync(Box, "copy"))!.InlineContent.ToArrayOrNull().Should().Equal(content, "a copy onto itself keeps its content");
        await Store.DeleteBlobAsync(Box, "small", null, T(3));
        (await Store.GetBlobAsync(Box, "copy"))!.InlineContent.ToArrayOrNull().Should().Equal(content);
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(content.Length);

        // Overwrites between inline and chunked content release what the old version held.
        await CommitAsync(Blob(Box, "copy", T(4), Chunk(1)));
        var chunked = await Store.GetBlobAsync(Box, "copy");
        chunked!.InlineContent.ToArrayOrNull().Should().BeNull();
        chunked.Chunks.Should().Equal(Chunk(1));
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(1000);
        await CommitAsync(Inline(Box, "copy", T(5), [1, 2, 3]));
        (await Store.GetBlobAsync(Box, "copy"))!.InlineContent.ToArrayOrNull().Should().Equal(new byte[] { 1, 2, 3 });
        (await ReferencesAsync(Chunk(1))).Should().Be(0);
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(3);

        var before = await Store.GetStatisticsAsync();
        await ReopenStoreAsync();
        (await Store.GetBlobAsync(Box, "copy"))!.InlineContent.ToArrayOrNull().Should().Equal(new byte[] { 1, 2, 3 });
        (await Store.GetStatisticsAsync()).Should().BeEquivalentTo(before);

        await CommitAsync(Inline(Box, "other", T(6), [9, 9]));
        await Store.DeleteContainerAsync(Box, deleteContents: true, T(7));
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(0);
    }

    [Test]
    public async Task Inline_content_is_copied_at_commit_so_the_caller_may_reuse_its_buffer()
    {
        await CreateContainerAsync();
        var buffer = new byte[64];
        Array.Fill(buffer, (byte)7);
        var record = Inline(Box, "reused", T0, buffer[8..48]) with { InlineContent = buffer.AsMemory(8, 40) };
        await CommitAsync(record);
        Array.Fill(buffer, (byte)0);

        var read = await Store.GetBlobAsync(Box, "reused");
        read!.InlineContent.ToArrayOrNull().Should().Equal(Enumerable.Repeat((byte)7, 40), "the store keeps a copy of the bytes, not the caller's buffer");
    }

    [Test]
    public async Task An_empty_blob_may_be_kept_inline()
    {
        await CreateContainerAsync();
        await CommitAsync(Inline(Box, "empty", T0, []));
        (await Store.GetBlobAsync(Box, "empty"))!.InlineContent.ToArrayOrNull().Should().NotBeNull().And.BeEmpty();
    }

    // ---------------------------------------------------------------- conditions

    private static IEnumerable<TestCaseData> FailingConditions()
    {
        yield return new TestCaseData(new BlobRequestConditions { IfNoneMatch = "*" }).SetName("IfNoneMatch * on an existing blob");
        yield return new TestCaseData(new BlobRequestConditions { IfMatch = "\"other\"" }).SetName("IfMatch another ETag");
        yield return new TestCaseData(new BlobRequestConditions { IfNoneMatch = "CURRENT" }).SetName("IfNoneMatch the current ETag");
        yield return new TestCaseData(new BlobRequestConditions { IfModifiedSince = T(0) }).SetName("IfModifiedSince the modification time");
        yield return new TestCaseData(new BlobRequestConditions { IfModifiedSince = T(5) }).SetName("IfModifiedSince after the modification");
        yield return new TestCaseData(new BlobRequestConditions { IfUnmodifiedSince = T(-1) }).SetName("IfUnmodifiedSince before the modification");
    }

    private static BlobRequestConditions Resolve(BlobRequestConditions conditions, string etag) =>
        conditions.IfNoneMatch == "CURRENT" ? new BlobRequestConditions { IfNoneMatch = etag } : conditions;

    [TestCaseSource(nameof(FailingConditions))]
    public async Task A_commit_whose_condition_fails_changes_nothing(BlobRequestConditions conditions)
    {
        await CreateContainerAsync();
        var current = await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        await ShouldChangeNothingAsync(() => CommitAsync(Blob(Box, "a", T(10), Chunk(2)), Resolve(conditions, current.Properties.ETag)), typeof(PreconditionFailedException));
        (await Store.ContainsChunkAsync(Chunk(2).Id)).Should().BeFalse("the new version's chunks were never counted");
    }

    [TestCaseSource(nameof(FailingConditions))]
    public async Task A_delete_whose_condition_fails_changes_nothing(BlobRequestConditions conditions)
    {
        await CreateContainerAsync();
        var current = await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        await ShouldChangeNothingAsync(() => Store.DeleteBlobAsync(Box, "a", Resolve(conditions, current.Properties.ETag), T(10)).AsTask(), typeof(PreconditionFailedException));
    }

    [TestCaseSource(nameof(FailingConditions))]
    public async Task A_metadata_update_whose_condition_fails_changes_nothing(BlobRequestConditions conditions)
    {
        await CreateContainerAsync();
        var current = await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        var update = new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["k"] = "v" }, Conditions = Resolve(conditions, current.Properties.ETag) };
        await ShouldChangeNothingAsync(() => Store.UpdateBlobMetadataAsync(Box, "a", update, "\"new\"", T(10)).AsTask(), typeof(PreconditionFailedException));
    }

    [Test]
    public async Task Conditions_that_hold_let_the_commit_through()
    {
        await CreateContainerAsync();
        var created = await CommitAsync(Blob(Box, "a", T0, Chunk(1)), BlobRequestConditions.CreateOnly);
        var etag = created.Properties.ETag;
        await CommitAsync(Blob(Box, "a", T(1), Chunk(2)), new BlobRequestConditions { IfMatch = etag });
        var current = (await Store.GetBlobAsync(Box, "a"))!.Properties;
        await CommitAsync(Blob(Box, "a", T(2), Chunk(3)), new BlobRequestConditions { IfMatch = "*", IfNoneMatch = etag, IfModifiedSince = T(0), IfUnmodifiedSince = T(1) });
        await CommitAsync(Blob(Box, "a", T(3), Chunk(4)), new BlobRequestConditions { IfMatch = (await Store.GetBlobAsync(Box, "a"))!.Properties.ETag.Trim('"') });
        (await Store.GetBlobAsync(Box, "a"))!.Chunks.Should().Equal(Chunk(4));
        current.LastModified.Should().Be(T(1));
    }

    [Test]
    public async Task IfMatch_on_a_missing_blob_fails_and_IfNoneMatch_star_creates()
    {
        await CreateContainerAsync();
        await ShouldChangeNothingAsync(() => CommitAsync(Blob(Box, "a", T0, Chunk(1)), new BlobRequestConditions { IfMatch = "*" }), typeof(PreconditionFailedException));
        await ShouldChangeNothingAsync(() => CommitAsync(Blob(Box, "a", T0, Chunk(1)), new BlobRequestConditions { IfModifiedSince = T(-10) }), typeof(PreconditionFailedException));
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)), new BlobRequestConditions { IfNoneMatch = "*", IfUnmodifiedSince = T(-10) });
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull();
    }

    // ---------------------------------------------------------------- copy

    private static BlobCopyRequest Copy(string sourceContainer, string source, string destinationContainer, string destination, DateTimeOffset now, BlobCopyOptions? options = null)
    {
        var n = Interlocked.Increment(ref s_sequence);
        return new BlobCopyRequest
        {
            SourceContainer = sourceContainer,
            SourceName = source,
            DestinationContainer = destinationContainer,
            DestinationName = destination,
            VersionId = "copy" + n.ToString(CultureInfo.InvariantCulture),
            ETag = "\"copy" + n.ToString(CultureInfo.InvariantCulture) + "\"",
            Now = now,
            Options = options ?? new BlobCopyOptions(),
        };
    }

    [Test]
    public async Task A_copy_shares_the_source_chunks_and_takes_its_content()
    {
        await CreateContainerAsync();
        await CreateContainerAsync("other");
        var source = await CommitAsync(BlobWith(Box, "src", T0, [Chunk(1), Chunk(2)], new Dictionary<string, string> { ["t"] = "1" }, new Dictionary<string, string> { ["m"] = "2" }, "image/png", StorageClass.Archive));
        var request = Copy(Box, "src", "other", "dst", T(5));

        var copy = await Store.CopyBlobAsync(request);

        var p = copy.Properties;
        p.Container.Should().Be("other");
        p.Name.Should().Be("dst");
        p.VersionId.Should().Be(request.VersionId);
        p.ETag.Should().Be(request.ETag);
        p.CreatedOn.Should().Be(T(5));
        p.LastModified.Should().Be(T(5));
        p.Size.Should().Be(2000);
        p.ContentHash.Should().Be(source.Properties.ContentHash);
        p.ContentType.Should().Be("image/png");
        p.StorageClass.Should().Be(StorageClass.Archive);
        p.Tags.Should().Equal(new Dictionary<string, string> { ["t"] = "1" });
        p.Metadata.Should().Equal(new Dictionary<string, string> { ["m"] = "2" });
        copy.Chunks.Should().Equal(Chunk(1), Chunk(2));
        var read = await Store.GetBlobAsync("other", "dst");
        read!.Properties.Should().BeEquivalentTo(p, o => o.ComparingRecordsByMembers());
        read.Chunks.Should().Equal(copy.Chunks);

        (await ReferencesAsync(Chunk(1))).Should().Be(2);
        (await ReferencesAsync(Chunk(2))).Should().Be(2);
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(2);
        stats.TotalBytes.Should().Be(4000);
        stats.StoredBytes.Should().Be(2000, "no byte was copied");
        stats.WriteOperations.Should().Be(2);
        stats.BytesWritten.Should().Be(4000);
        stats.Containers.Should().Equal(new ContainerStatistics(Box, 1, 2000), new ContainerStatistics("other", 1, 2000));
    }

    [Test]
    public async Task A_copy_applies_its_overrides()
    {
        await CreateContainerAsync();
        await CommitAsync(BlobWith(Box, "src", T0, [Chunk(1)], new Dictionary<string, string> { ["t"] = "1" }, new Dictionary<string, string> { ["m"] = "2" }));
        var copy = await Store.CopyBlobAsync(Copy(Box, "src", Box, "dst", T(1), new BlobCopyOptions
        {
            ContentType = "text/csv",
            StorageClass = StorageClass.ColdArchive,
            Tags = new Dictionary<string, string> { ["new"] = "tag" },
            Metadata = new Dictionary<string, string>(),
        }));
        var read = (await Store.GetBlobAsync(Box, "dst"))!.Properties;
        foreach (var p in new[] { copy.Properties, read })
        {
            p.ContentType.Should().Be("text/csv");
            p.StorageClass.Should().Be(StorageClass.ColdArchive);
            p.Tags.Should().Equal(new Dictionary<string, string> { ["new"] = "tag" });
            p.Metadata.Should().BeEmpty();
        }

        (await Store.GetBlobAsync(Box, "src"))!.Properties.Tags.Should().ContainKey("t", "the source is untouched");
    }

    [Test]
    public async Task A_copy_onto_itself_keeps_the_counts_right()
    {
        await CreateContainerAsync();
        var source = await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(1), Chunk(2)));
        var copy = await Store.CopyBlobAsync(Copy(Box, "a", Box, "a", T(3), new BlobCopyOptions { ContentType = "text/plain" }));

        copy.Properties.ETag.Should().NotBe(source.Properties.ETag);
        copy.Properties.CreatedOn.Should().Be(T0);
        copy.Properties.LastModified.Should().Be(T(3));
        copy.Properties.ContentType.Should().Be("text/plain");
        (await ReferencesAsync(Chunk(1))).Should().Be(2);
        (await ReferencesAsync(Chunk(2))).Should().Be(1);
        (await Store.GetCollectableChunksAsync(DateTimeOffset.MaxValue, 10)).Should().BeEmpty("no count touched zero on the way");
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(3000);
        stats.StoredBytes.Should().Be(2000);
        stats.ChunkCount.Should().Be(2);
        stats.WriteOperations.Should().Be(2);
    }

    [Test]
    public async Task A_copy_over_an_existing_blob_releases_its_chunks_and_keeps_its_creation_time()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "src", T(1), Chunk(1)));
        await CommitAsync(Blob(Box, "dst", T0, Chunk(2), Chunk(3)));
        var copy = await Store.CopyBlobAsync(Copy(Box, "src", Box, "dst", T(5)));
        copy.Properties.CreatedOn.Should().Be(T0);
        (await ReferencesAsync(Chunk(1))).Should().Be(2);
        (await ReferencesAsync(Chunk(2))).Should().Be(0);
        (await ReferencesAsync(Chunk(3))).Should().Be(0);
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(2);
        stats.TotalBytes.Should().Be(2000);
        stats.StoredBytes.Should().Be(1000);
    }

    [Test]
    public async Task A_copy_that_cannot_be_made_changes_nothing()
    {
        await CreateContainerAsync();
        var source = await CommitAsync(Blob(Box, "src", T0, Chunk(1)));
        var destination = await CommitAsync(Blob(Box, "dst", T0, Chunk(2)));

        await ShouldChangeNothingAsync(() => Store.CopyBlobAsync(Copy(Box, "missing", Box, "x", T(1))).AsTask(), typeof(BlobNotFoundException));
        await ShouldChangeNothingAsync(() => Store.CopyBlobAsync(Copy("nope", "src", Box, "x", T(1))).AsTask(), typeof(ContainerNotFoundException));
        await ShouldChangeNothingAsync(() => Store.CopyBlobAsync(Copy(Box, "src", "nope", "x", T(1))).AsTask(), typeof(ContainerNotFoundException));
        await ShouldChangeNothingAsync(
            () => Store.CopyBlobAsync(Copy(Box, "src", Box, "x", T(1), new BlobCopyOptions { SourceConditions = new BlobRequestConditions { IfMatch = destination.Properties.ETag } })).AsTask(),
            typeof(PreconditionFailedException));
        await ShouldChangeNothingAsync(
            () => Store.CopyBlobAsync(Copy(Box, "src", Box, "dst", T(1), new BlobCopyOptions { DestinationConditions = BlobRequestConditions.CreateOnly })).AsTask(),
            typeof(PreconditionFailedException));
        await ShouldChangeNothingAsync(
            () => Store.CopyBlobAsync(Copy(Box, "src", Box, "x", T(1), new BlobCopyOptions { Tags = Enumerable.Range(0, 11).ToDictionary(i => "k" + i, i => "v") })).AsTask(),
            typeof(ArgumentException));
        await ShouldChangeNothingAsync(
            () => Store.CopyBlobAsync(Copy(Box, "src", Box, "x", T(1), new BlobCopyOptions { Metadata = new Dictionary<string, string> { ["not an identifier"] = "v" } })).AsTask(),
            typeof(ArgumentException));

        // Conditions that hold let it through.
        await Store.CopyBlobAsync(Copy(Box, "src", Box, "dst", T(2), new BlobCopyOptions
        {
            SourceConditions = new BlobRequestConditions { IfMatch = source.Properties.ETag },
            DestinationConditions = new BlobRequestConditions { IfMatch = destination.Properties.ETag },
        }));
        (await Store.GetBlobAsync(Box, "dst"))!.Chunks.Should().Equal(Chunk(1));
    }

    // ---------------------------------------------------------------- delete

    [Test]
    public async Task Delete_returns_what_was_deleted_and_releases_its_chunks()
    {
        await CreateContainerAsync();
        var blob = await CommitAsync(BlobWith(Box, "a", T0, [Chunk(1), Chunk(2)], new Dictionary<string, string> { ["k"] = "v" }));
        await CommitAsync(Blob(Box, "b", T0, Chunk(2)));

        var deleted = await Store.DeleteBlobAsync(Box, "a", new BlobRequestConditions { IfMatch = blob.Properties.ETag }, T(7));

        deleted.Properties.Should().BeEquivalentTo(blob.Properties, o => o.ComparingRecordsByMembers());
        deleted.Chunks.Should().Equal(Chunk(1), Chunk(2));
        (await Store.GetBlobAsync(Box, "a")).Should().BeNull();
        (await ReferencesAsync(Chunk(1))).Should().Be(0);
        (await ReferencesAsync(Chunk(2))).Should().Be(1);
        (await Store.GetCollectableChunksAsync(T(7).AddTicks(1), 10)).Should().Equal(Chunk(1));
        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(1000);
        stats.StoredBytes.Should().Be(1000);
        stats.ChunkCount.Should().Be(1);
        stats.DeleteOperations.Should().Be(1);
        stats.WriteOperations.Should().Be(2);

        await ShouldChangeNothingAsync(() => Store.DeleteBlobAsync(Box, "a", null, T(8)).AsTask(), typeof(BlobNotFoundException));
    }

    // ---------------------------------------------------------------- metadata

    [Test]
    public async Task A_metadata_merge_sets_overwrites_and_removes_keys()
    {
        await CreateContainerAsync();
        var blob = await CommitAsync(BlobWith(Box, "a", T0, [Chunk(1)],
            new Dictionary<string, string> { ["keep"] = "1", ["change"] = "2", ["drop"] = "3" },
            new Dictionary<string, string> { ["Color"] = "red", ["size"] = "L" }));

        var updated = await Store.UpdateBlobMetadataAsync(Box, "a", new BlobMetadataUpdate
        {
            Tags = new Dictionary<string, string?> { ["change"] = "20", ["drop"] = null, ["new"] = "4" },
            Metadata = new Dictionary<string, string?> { ["color"] = null, ["fit"] = "slim" },
            Conditions = new BlobRequestConditions { IfMatch = blob.Properties.ETag },
        }, "\"updated\"", T(3));

        var read = (await Store.GetBlobAsync(Box, "a"))!;
        foreach (var p in new[] { updated.Properties, read.Properties })
        {
            p.Tags.Should().Equal(new Dictionary<string, string> { ["keep"] = "1", ["change"] = "20", ["new"] = "4" });
            p.Metadata.Should().Equal(new Dictionary<string, string> { ["size"] = "L", ["fit"] = "slim" });
            p.ETag.Should().Be("\"updated\"");
            p.LastModified.Should().Be(T(3));
            p.CreatedOn.Should().Be(T0);
            p.VersionId.Should().Be(blob.Properties.VersionId, "the content is the same version");
            p.Size.Should().Be(1000);
            p.ContentHash.Should().Be(blob.Properties.ContentHash);
        }

        updated.Chunks.Should().Equal(Chunk(1));
        read.Chunks.Should().Equal(Chunk(1));
        (await ReferencesAsync(Chunk(1))).Should().Be(1);
        (await Store.GetStatisticsAsync()).WriteOperations.Should().Be(1, "a metadata change writes no new version");
    }

    [Test]
    public async Task A_metadata_replace_swaps_the_dictionary_whole_and_null_leaves_one_alone()
    {
        await CreateContainerAsync();
        await CommitAsync(BlobWith(Box, "a", T0, [Chunk(1)], new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, new Dictionary<string, string> { ["m"] = "1" }));
        await Store.UpdateBlobMetadataAsync(Box, "a", new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["c"] = "3" }, Mode = MetadataUpdateMode.Replace }, "\"x\"", T(1));
        var p = (await Store.GetBlobAsync(Box, "a"))!.Properties;
        p.Tags.Should().Equal(new Dictionary<string, string> { ["c"] = "3" });
        p.Metadata.Should().Equal(new Dictionary<string, string> { ["m"] = "1" }, "null leaves the metadata as it is");

        await Store.UpdateBlobMetadataAsync(Box, "a", new BlobMetadataUpdate { Metadata = new Dictionary<string, string?>(), Mode = MetadataUpdateMode.Replace }, "\"y\"", T(2));
        p = (await Store.GetBlobAsync(Box, "a"))!.Properties;
        p.Metadata.Should().BeEmpty();
        p.Tags.Should().Equal(new Dictionary<string, string> { ["c"] = "3" });
    }

    [Test]
    public async Task A_metadata_update_that_breaks_a_limit_changes_nothing()
    {
        await CreateContainerAsync();
        await CommitAsync(BlobWith(Box, "a", T0, [Chunk(1)], Enumerable.Range(0, 9).ToDictionary(i => "t" + i, i => "v")));
        var tooMany = new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["x"] = "1", ["y"] = "2" } };
        await ShouldChangeNothingAsync(() => Store.UpdateBlobMetadataAsync(Box, "a", tooMany, "\"n\"", T(1)).AsTask(), typeof(ArgumentException));
        var tooBig = new BlobMetadataUpdate { Metadata = new Dictionary<string, string?> { ["big"] = new string('x', MetadataRules.MaxMetadataBytes) } };
        await ShouldChangeNothingAsync(() => Store.UpdateBlobMetadataAsync(Box, "a", tooBig, "\"n\"", T(1)).AsTask(), typeof(ArgumentException));
        var nullInReplace = new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["x"] = null }, Mode = MetadataUpdateMode.Replace };
        await ShouldChangeNothingAsync(() => Store.UpdateBlobMetadataAsync(Box, "a", nullInReplace, "\"n\"", T(1)).AsTask(), typeof(ArgumentException));
        await ShouldChangeNothingAsync(() => Store.UpdateBlobMetadataAsync(Box, "missing", tooMany, "\"n\"", T(1)).AsTask(), typeof(BlobNotFoundException));
    }

    // ---------------------------------------------------------------- listing

    /// <summary>Lists every page and returns the entries in order: "B:name" for a blob, "P:prefix" for a common prefix.</summary>
    protected async Task<(List<string> Entries, int Pages)> ListAllAsync(string? prefix = null, string? delimiter = null, int pageSize = 1000, string container = Box)
    {
        var entries = new List<string>();
        byte[]? startAt = null;
        var pages = 0;
        do
        {
            var page = await Store.ListBlobsAsync(container, new BlobListQuery { Prefix = prefix, Delimiter = delimiter, StartAt = startAt, PageSize = pageSize });
            pages++;
            (page.Blobs.Count + page.CommonPrefixes.Count).Should().BeLessThanOrEqualTo(pageSize);
            page.Blobs.Select(b => b.Name).Should().BeInAscendingOrder(BlobNames.Utf8Comparer);
            page.CommonPrefixes.Should().BeInAscendingOrder(BlobNames.Utf8Comparer);
            var merged = page.Blobs.Select(b => (Key: b.Name, Entry: "B:" + b.Name)).Concat(page.CommonPrefixes.Select(p => (Key: p, Entry: "P:" + p)));
            entries.AddRange(merged.OrderBy(e => e.Key, BlobNames.Utf8Comparer).Select(e => e.Entry));
            if (page.NextStartAt is not null) (page.Blobs.Count + page.CommonPrefixes.Count).Should().Be(pageSize, "only a full page has a next one");
            startAt = page.NextStartAt;
            pages.Should().BeLessThan(10_000, "the listing must end");
        }
        while (startAt is not null);
        return (entries, pages);
    }

    /// <summary>What a listing must return, computed the slow and obvious way.</summary>
    protected static List<string> Expected(IEnumerable<string> names, string? prefix, string? delimiter)
    {
        prefix ??= "";
        var entries = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(BlobNames.Utf8Comparer))
        {
            var at = string.IsNullOrEmpty(delimiter) ? -1 : name.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            if (at < 0) entries.Add("B:" + name);
            else if (seen.Add(name[..(at + delimiter!.Length)])) entries.Add("P:" + name[..(at + delimiter.Length)]);
        }

        return entries;
    }

    protected async Task CommitNamesAsync(IEnumerable<string> names, string container = Box)
    {
        var i = 0;
        foreach (var name in names) await CommitAsync(Blob(container, name, T0, Chunk(i++ % 7)));
    }

    [Test]
    public async Task Listing_orders_names_by_their_UTF8_bytes()
    {
        await CreateContainerAsync();
        // UTF-16 ordinal order would put the emoji (a surrogate pair, D83D…) before U+E000 and U+FFFD; UTF-8 puts it after.
        string[] names = ["z", "é", "\uFFFD", "😀", "\uE000", "A", "a", "a b", "a/b", "ab", "Zebra"];
        await CommitNamesAsync(names);
        var (entries, _) = await ListAllAsync();
        entries.Should().Equal("B:A", "B:Zebra", "B:a", "B:a b", "B:a/b", "B:ab", "B:z", "B:é", "B:\uE000", "B:\uFFFD", "B:😀");

        var (paged, pages) = await ListAllAsync(pageSize: 2);
        paged.Should().Equal(entries);
        pages.Should().Be(6);
    }

    [Test]
    public async Task A_prefix_is_literal_and_case_sensitive()
    {
        await CreateContainerAsync();
        string[] names = ["a%b", "a%c", "axb", "a_c", "abc", "aXc", "A%b", "Abc", "b", "a"];
        await CommitNamesAsync(names);
        (await ListAllAsync("a%")).Entries.Should().Equal("B:a%b", "B:a%c");
        (await ListAllAsync("a_")).Entries.Should().Equal("B:a_c");
        (await ListAllAsync("A")).Entries.Should().Equal("B:A%b", "B:Abc");
        (await ListAllAsync("aX")).Entries.Should().Equal("B:aXc");
        (await ListAllAsync("ax")).Entries.Should().Equal("B:axb");
        (await ListAllAsync("a")).Entries.Should().Equal(Expected(names, "a", null));
        (await ListAllAsync("abc")).Entries.Should().Equal(new[] { "B:abc" }, "a name equal to the prefix is listed");
        (await ListAllAsync("c")).Entries.Should().BeEmpty();
        (await ListAllAsync("é")).Entries.Should().BeEmpty();
    }

    [Test]
    public async Task A_delimiter_groups_names_into_common_prefixes()
    {
        await CreateContainerAsync();
        string[] names = ["a/1", "a/2", "a/x/3", "a-b", "a0", "b", "c/x/y", "c/z", "d", "photos/2026/jan/1.jpg", "photos/2026/feb/2.jpg", "photos/2025/x.jpg", "photos/readme"];
        await CommitNamesAsync(names);

        (await ListAllAsync(delimiter: "/")).Entries.Should().Equal("B:a-b", "P:a/", "B:a0", "B:b", "P:c/", "B:d", "P:photos/");
        (await ListAllAsync("c/", "/")).Entries.Should().Equal("P:c/x/", "B:c/z");
        (await ListAllAsync("photos/", "/")).Entries.Should().Equal("P:photos/2025/", "P:photos/2026/", "B:photos/readme");
        (await ListAllAsync("photos/2026/", "/")).Entries.Should().Equal("P:photos/2026/feb/", "P:photos/2026/jan/");
        (await ListAllAsync("photos/20", "/")).Entries.Should().Equal("P:photos/2025/", "P:photos/2026/");
        (await ListAllAsync("a", "/")).Entries.Should().Equal("B:a-b", "P:a/", "B:a0");

        foreach (var size in new[] { 1, 2, 3, 4 })
        {
            (await ListAllAsync(delimiter: "/", pageSize: size)).Entries.Should().Equal(Expected(names, null, "/"), $"pages of {size} add up to the whole listing");
        }

        var first = await Store.ListBlobsAsync(Box, new BlobListQuery { Delimiter = "/", PageSize = 2 });
        first.Blobs.Select(b => b.Name).Should().Equal("a-b");
        first.CommonPrefixes.Should().Equal("a/");
        first.NextStartAt.Should().Equal(BlobNames.PrefixUpperBound("a/"u8), "after a common prefix the next page starts past everything under it");
    }

    [Test]
    public async Task A_delimiter_may_be_any_string()
    {
        await CreateContainerAsync();
        string[] names = ["x--1", "x--2", "x-3", "y", "y--", "z--a--b", "é€é€1", "é€2"];
        await CommitNamesAsync(names);
        // '-' sorts before '3', '2' before 'é'; a name equal to its common prefix ("y--") is rolled into it.
        (await ListAllAsync(delimiter: "--")).Entries.Should().Equal("P:x--", "B:x-3", "B:y", "P:y--", "P:z--", "B:é€2", "B:é€é€1");
        (await ListAllAsync(delimiter: "€")).Entries.Should().Equal(Expected(names, null, "€"));
        (await ListAllAsync("z--", "--")).Entries.Should().Equal("P:z--a--");
        (await ListAllAsync(delimiter: "--", pageSize: 1)).Entries.Should().Equal(Expected(names, null, "--"));
    }

    [Test]
    public async Task Pages_collected_in_turn_give_the_whole_ordered_listing([Values(1, 2, 3, 7, 50)] int pageSize)
    {
        await CreateContainerAsync();
        var names = Enumerable.Range(0, 40).Select(i => $"n{i:D3}").Concat(["m", "o/1", "o/2", "é", "😀"]).ToList();
        await CommitNamesAsync(names);
        var (entries, pages) = await ListAllAsync(pageSize: pageSize);
        entries.Should().Equal(Expected(names, null, null));
        pages.Should().Be((int)Math.Ceiling(names.Count / (double)pageSize), "a page is full until the last, which has no token");
        (await ListAllAsync("n0", pageSize: pageSize)).Entries.Should().Equal(Expected(names, "n0", null));
    }

    [Test]
    public async Task A_last_page_that_is_exactly_full_has_no_next_page()
    {
        await CreateContainerAsync();
        await CommitNamesAsync(["a", "b", "c", "d"]);
        var page = await Store.ListBlobsAsync(Box, new BlobListQuery { PageSize = 4 });
        page.Blobs.Should().HaveCount(4);
        page.NextStartAt.Should().BeNull();
        page = await Store.ListBlobsAsync(Box, new BlobListQuery { PageSize = 2 });
        page.NextStartAt.Should().Equal(BlobNames.Successor("b"u8));
        page = await Store.ListBlobsAsync(Box, new BlobListQuery { PageSize = 2, StartAt = page.NextStartAt });
        page.Blobs.Select(b => b.Name).Should().Equal("c", "d");
        page.NextStartAt.Should().BeNull();

        var empty = await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "zz" });
        empty.Blobs.Should().BeEmpty();
        empty.CommonPrefixes.Should().BeEmpty();
        empty.NextStartAt.Should().BeNull();
    }

    [Test]
    public async Task A_page_token_stays_valid_while_blobs_come_and_go()
    {
        await CreateContainerAsync();
        await CommitNamesAsync(["a", "b", "c", "d", "e", "f", "g"]);
        var first = await Store.ListBlobsAsync(Box, new BlobListQuery { PageSize = 3 });
        first.Blobs.Select(b => b.Name).Should().Equal("a", "b", "c");

        await CommitAsync(Blob(Box, "bb", T0, Chunk(1)));
        await Store.DeleteBlobAsync(Box, "a", null, T0);
        await CommitAsync(Blob(Box, "cc", T0, Chunk(1)));
        await Store.DeleteBlobAsync(Box, "d", null, T0);
        await CommitAsync(Blob(Box, "c", T(1), Chunk(2)));

        var rest = new List<string>();
        var startAt = first.NextStartAt;
        while (startAt is not null)
        {
            var page = await Store.ListBlobsAsync(Box, new BlobListQuery { PageSize = 3, StartAt = startAt });
            rest.AddRange(page.Blobs.Select(b => b.Name));
            startAt = page.NextStartAt;
        }

        rest.Should().Equal("cc", "e", "f", "g");
    }

    [Test]
    public async Task A_start_before_the_prefix_starts_at_the_prefix()
    {
        await CreateContainerAsync();
        await CommitNamesAsync(["a", "b/1", "b/2", "c"]);
        var page = await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "b/", StartAt = "a"u8.ToArray() });
        page.Blobs.Select(b => b.Name).Should().Equal("b/1", "b/2");
        page = await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "b/", StartAt = BlobNames.Successor("b/1"u8) });
        page.Blobs.Select(b => b.Name).Should().Equal("b/2");
        page = await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "b/", StartAt = "c"u8.ToArray() });
        page.Blobs.Should().BeEmpty();
        page.NextStartAt.Should().BeNull();
    }

    [Test]
    public async Task Listed_properties_are_the_stored_ones()
    {
        await CreateContainerAsync();
        var blob = await CommitAsync(BlobWith(Box, "dir/a", T0, [Chunk(1)], new Dictionary<string, string> { ["k"] = "v" }, new Dictionary<string, string> { ["m"] = "n" }, "text/plain", StorageClass.Archive));
        await Store.RecordAccessAsync([new BlobAccess(Box, "dir/a", blob.Properties.VersionId, 2, 10, T(1))]);
        var listed = (await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "dir/", Include = BlobListTraits.All })).Blobs.Single();
        listed.Should().BeEquivalentTo((await Store.GetBlobAsync(Box, "dir/a"))!.Properties, o => o.ComparingRecordsByMembers());
        listed.AccessCount.Should().Be(2);
        listed.Tags.Should().ContainKey("k");
    }

    [TestCase(BlobListTraits.None)]
    [TestCase(BlobListTraits.Tags)]
    [TestCase(BlobListTraits.Metadata)]
    [TestCase(BlobListTraits.All)]
    public async Task Listing_reads_tags_and_metadata_only_when_asked(BlobListTraits include)
    {
        await CreateContainerAsync();
        await CommitAsync(BlobWith(Box, "dir/a", T0, [Chunk(1)], new Dictionary<string, string> { ["k"] = "v" }, new Dictionary<string, string> { ["m"] = "n" }, "text/plain", StorageClass.Archive));
        var stored = (await Store.GetBlobAsync(Box, "dir/a"))!.Properties;

        var listed = (await Store.ListBlobsAsync(Box, new BlobListQuery { Prefix = "dir/", Include = include })).Blobs.Single();
        listed.Should().BeEquivalentTo(stored, o => o.ComparingRecordsByMembers().Excluding(p => p.Tags).Excluding(p => p.Metadata));
        listed.Tags.Should().Equal((include & BlobListTraits.Tags) != 0 ? stored.Tags : new Dictionary<string, string>());
        listed.Metadata.Should().Equal((include & BlobListTraits.Metadata) != 0 ? stored.Metadata : new Dictionary<string, string>());
    }

    [Test]
    public async Task Listing_refuses_undefined_traits()
    {
        await CreateContainerAsync();
        await FluentActions.Awaiting(() => Store.ListBlobsAsync(Box, new BlobListQuery { Include = (BlobListTraits)8 }).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Test]
    public async Task Listing_agrees_with_a_model_on_generated_names()
    {
        await CreateContainerAsync();
        var random = new Random(20261125);
        string[] alphabet = ["a", "b", "A", "%", "_", "é", "\uE000", "\uFFFD", "😀", "-", " "];
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (names.Count < 150)
        {
            var segments = Enumerable.Range(0, random.Next(1, 4)).Select(_ => string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ => alphabet[random.Next(alphabet.Length)])));
            var name = string.Join("/", segments);
            try
            {
                BlobNames.ValidateBlobName(name);
                names.Add(name);
            }
            catch (ArgumentException)
            {
            }
        }

        await CommitNamesAsync(names);
        foreach (var (prefix, delimiter) in new[] { ((string?)null, (string?)null), (null, "/"), ("a", "/"), ("a/", "/"), ("é", null), ("%", "/"), ("😀", "/"), ("b", "a"), (null, "😀") })
        {
            foreach (var pageSize in new[] { 1, 4, 1000 })
            {
                (await ListAllAsync(prefix, delimiter, pageSize)).Entries.Should().Equal(Expected(names, prefix, delimiter), $"prefix '{prefix}', delimiter '{delimiter}', pages of {pageSize}");
            }
        }
    }

    // ---------------------------------------------------------------- access

    [Test]
    public async Task Recorded_access_adds_to_the_blob_and_to_the_statistics()
    {
        await CreateContainerAsync();
        var a = await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        var b = await CommitAsync(Blob(Box, "b", T0, Chunk(2)));
        await Store.RecordAccessAsync([new BlobAccess(Box, "a", a.Properties.VersionId, 3, 3000, T(5)), new BlobAccess(Box, "b", b.Properties.VersionId, 1, 10, T(2))]);
        await Store.RecordAccessAsync([new BlobAccess(Box, "a", a.Properties.VersionId, 2, 500, T(4))]);

        var pa = (await Store.GetBlobAsync(Box, "a"))!.Properties;
        pa.AccessCount.Should().Be(5);
        pa.LastAccessedOn.Should().Be(T(5), "the latest access wins, whatever order the batches come in");
        pa.ETag.Should().Be(a.Properties.ETag, "reads do not change the ETag");
        pa.LastModified.Should().Be(T0);
        (await Store.GetBlobAsync(Box, "b"))!.Properties.AccessCount.Should().Be(1);
        var stats = await Store.GetStatisticsAsync();
        stats.ReadOperations.Should().Be(6);
        stats.BytesRead.Should().Be(3510);
        stats.AverageReadSize.Should().Be(3510 / 6.0);
    }

    [Test]
    public async Task Access_to_a_deleted_or_replaced_blob_counts_in_the_statistics_only()
    {
        await CreateContainerAsync();
        var old = await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        var current = await CommitAsync(Blob(Box, "a", T(1), Chunk(2)));
        await Store.RecordAccessAsync(
        [
            new BlobAccess(Box, "a", old.Properties.VersionId, 4, 4000, T(2)),
            new BlobAccess(Box, "gone", "v-gone", 1, 100, T(2)),
            new BlobAccess("no-such-container", "x", "v", 1, 1, T(2)),
        ]);
        var p = (await Store.GetBlobAsync(Box, "a"))!.Properties;
        p.AccessCount.Should().Be(0, "the reads were of the version that was replaced");
        p.LastAccessedOn.Should().BeNull();
        (await Store.GetBlobAsync(Box, "gone")).Should().BeNull();
        var stats = await Store.GetStatisticsAsync();
        stats.ReadOperations.Should().Be(6);
        stats.BytesRead.Should().Be(4101);
        current.Properties.AccessCount.Should().Be(0);

        await Store.RecordAccessAsync([]);
        (await Store.GetStatisticsAsync()).ReadOperations.Should().Be(6);
    }

    // ---------------------------------------------------------------- statistics and durability

    [Test]
    public async Task Statistics_add_up_and_survive_a_reopen()
    {
        await CreateContainerAsync("b-container");
        await CreateContainerAsync("a-container");
        var x = await CommitAsync(Blob("a-container", "x", T0, Chunk(1, 100), Chunk(2, 200)));
        await CommitAsync(Blob("a-container", "y", T0, Chunk(2, 200)));
        await CommitAsync(Blob("b-container", "z", T0, Chunk(3, 50), Chunk(1, 100)));
        await Store.CopyBlobAsync(Copy("a-container", "x", "b-container", "x2", T(1)));
        await Store.DeleteBlobAsync("a-container", "y", null, T(2));
        await Store.RecordAccessAsync([new BlobAccess("a-container", "x", x.Properties.VersionId, 2, 600, T(3))]);
        await Store.UpdateBlobMetadataAsync("a-container", "x", new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["k"] = "v" } }, "\"m\"", T(4));

        var stats = await Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(3);
        stats.TotalBytes.Should().Be(300 + 150 + 300);
        stats.StoredBytes.Should().Be(350);
        stats.ChunkCount.Should().Be(3);
        stats.WriteOperations.Should().Be(4);
        stats.BytesWritten.Should().Be(300 + 200 + 150 + 300);
        stats.DeleteOperations.Should().Be(1);
        stats.ReadOperations.Should().Be(2);
        stats.BytesRead.Should().Be(600);
        stats.Containers.Should().Equal(new ContainerStatistics("a-container", 1, 300), new ContainerStatistics("b-container", 2, 450));

        var before = await DescribeAsync();
        await ReopenStoreAsync();
        (await DescribeAsync()).Should().Equal(before, "everything committed survives a reopen");
        (await Store.GetStatisticsAsync()).Should().BeEquivalentTo(stats);
        (await Store.GetBlobAsync("a-container", "x"))!.Properties.Tags.Should().ContainKey("k");
    }

    [Test]
    public async Task Initializing_again_is_harmless()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1)));
        await Store.InitializeAsync();
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull();
        await ReopenStoreAsync();
        await Store.InitializeAsync();
        (await Store.GetBlobAsync(Box, "a")).Should().NotBeNull();
    }

    // ---------------------------------------------------------------- collection

    [Test]
    public async Task Chunks_become_collectable_after_their_count_falls_to_zero()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2)));
        await CommitAsync(Blob(Box, "b", T0, Chunk(3)));
        (await Store.GetCollectableChunksAsync(DateTimeOffset.MaxValue, 10)).Should().BeEmpty("referenced chunks are never collectable");

        await Store.DeleteBlobAsync(Box, "a", null, T(10));
        await Store.DeleteBlobAsync(Box, "b", null, T(20));

        (await Store.GetCollectableChunksAsync(T(10), 10)).Should().BeEmpty("the bound is exclusive");
        (await Store.GetCollectableChunksAsync(T(10).AddTicks(1), 10)).Select(c => c.Id).Should().BeEquivalentTo([Chunk(1).Id, Chunk(2).Id]);
        (await Store.GetCollectableChunksAsync(T(30), 10)).Should().HaveCount(3);
        (await Store.GetCollectableChunksAsync(T(30), 2)).Should().HaveCount(2, "the limit is kept");
        (await Store.GetCollectableChunksAsync(T(30), 1)).Select(c => c.Id).Should().BeSubsetOf([Chunk(1).Id, Chunk(2).Id], "the longest unreferenced go first");
        (await Store.GetCollectableChunksAsync(T(30), 10)).Should().OnlyContain(c => c.Length == 1000);
    }

    [Test]
    public async Task Removing_chunks_skips_those_referenced_again_or_too_recent()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T0, Chunk(1), Chunk(2), Chunk(3, 77)));
        await Store.DeleteBlobAsync(Box, "a", null, T(10));
        var collectable = await Store.GetCollectableChunksAsync(T(11), 10);
        collectable.Should().HaveCount(3);

        // Chunk 2 is used again between the scan and the removal; chunk 4 never existed.
        await CommitAsync(Blob(Box, "b", T(12), Chunk(2)));
        var removed = await Store.RemoveChunksAsync([.. collectable.Select(c => c.Id), Chunk(4).Id], T(11));

        removed.Select(c => c.Id).Should().BeEquivalentTo([Chunk(1).Id, Chunk(3).Id]);
        removed.Single(c => c.Id == Chunk(3).Id).Length.Should().Be(77);
        (await Store.ContainsChunkAsync(Chunk(1).Id)).Should().BeFalse();
        (await Store.ContainsChunkAsync(Chunk(2).Id)).Should().BeTrue();
        (await Store.ContainsChunkAsync(Chunk(4).Id)).Should().BeFalse();
        (await ReferencesAsync(Chunk(2))).Should().Be(1);

        // A chunk unreferenced after the bound stays until a later pass.
        await Store.DeleteBlobAsync(Box, "b", null, T(20));
        (await Store.RemoveChunksAsync([Chunk(2).Id], T(20))).Should().BeEmpty();
        (await Store.ContainsChunkAsync(Chunk(2).Id)).Should().BeTrue();
        (await Store.RemoveChunksAsync([Chunk(2).Id], T(21))).Should().Equal(Chunk(2));
        (await ChunksAsync()).Should().BeEmpty();
        (await Store.RemoveChunksAsync([], T(30))).Should().BeEmpty();

        var stats = await Store.GetStatisticsAsync();
        stats.StoredBytes.Should().Be(0);
        stats.ChunkCount.Should().Be(0);

        // A removed chunk written again starts a new row.
        await CommitAsync(Blob(Box, "c", T(40), Chunk(1)));
        (await ReferencesAsync(Chunk(1))).Should().Be(1);
        (await Store.GetStatisticsAsync()).StoredBytes.Should().Be(1000);
    }

    // ---------------------------------------------------------------- enumeration

    [Test]
    public async Task Enumeration_returns_every_blob_and_chunk_across_pages()
    {
        await CreateContainerAsync();
        await CreateContainerAsync("other");
        var expected = new List<string>();
        var count = EnumerationBlobCount;
        for (var i = 0; i < count; i++)
        {
            var container = i % 3 == 0 ? "other" : Box;
            var name = $"n/{i:D5}";
            await CommitAsync(Blob(container, name, T0, Chunk(i), Chunk(i + 1)));
            expected.Add(container + "/" + name);
        }

        var blobs = new List<string>();
        await foreach (var blob in Store.EnumerateBlobsAsync())
        {
            blobs.Add(blob.Properties.Container + "/" + blob.Properties.Name);
            blob.Chunks.Should().HaveCount(2);
        }

        blobs.Should().BeEquivalentTo(expected);
        var chunks = await ChunksAsync();
        chunks.Should().HaveCount(count + 1);
        chunks.Values.Sum(c => c.References).Should().Be(2 * count);
        var parts = 0;
        await foreach (var _ in Store.EnumeratePartsAsync()) parts++;
        parts.Should().Be(0);
    }

    // ---------------------------------------------------------------- multipart

    private static MultipartUpload Upload(string id, string name, DateTimeOffset started, BlobRequestConditions? conditions = null, string container = Box) => new()
    {
        UploadId = id,
        Container = container,
        Name = name,
        ContentType = "video/mp4",
        StorageClass = StorageClass.InfrequentAccess,
        Tags = new Dictionary<string, string> { ["kind"] = "movie" },
        Metadata = new Dictionary<string, string> { ["by"] = "me" },
        Conditions = conditions,
        StartedOn = started,
    };

    private static PartRecord Part(string upload, int number, DateTimeOffset now, params ChunkReference[] chunks) =>
        new(upload, new UploadedPart { PartNumber = number, ETag = $"\"p{number}-{chunks.Length}-{chunks.FirstOrDefault().Id}\"", Size = chunks.Sum(c => (long)c.Length), ContentHash = Hash(1000 + number), UploadedOn = now }, chunks);

    [Test]
    public async Task A_multipart_upload_holds_its_parts_chunks_and_completes_into_a_blob()
    {
        await CreateContainerAsync();
        await Store.CreateMultipartUploadAsync(Upload("u0", "x", T0));
        await Store.CreateMultipartUploadAsync(Upload("u1", "movie", T0, new BlobRequestConditions { IfNoneMatch = "*" }));
        var p1 = Part("u1", 1, T(1), Chunk(1), Chunk(2));
        var p2 = Part("u1", 2, T(1), Chunk(3));
        var stale = Part("u1", 3, T(1), Chunk(4));
        await Store.CommitPartAsync(p2, T(1));
        await Store.CommitPartAsync(Part("u1", 1, T(1), Chunk(9)), T(1));
        await Store.CommitPartAsync(p1, T(2));
        await Store.CommitPartAsync(stale, T(2));

        (await ReferencesAsync(Chunk(9))).Should().Be(0, "a replaced part's chunks are released");
        var upload = await Store.GetMultipartUploadAsync("u1");
        upload!.PartCount.Should().Be(3);
        upload.BytesUploaded.Should().Be(4000);
        upload.Conditions!.IfNoneMatch.Should().Be("*");
        upload.Tags.Should().ContainKey("kind");
        (await Store.ListPartsAsync("u1", 0, 10)).Select(p => p.PartNumber).Should().Equal(1, 2, 3);
        (await Store.ListPartsAsync("u1", 1, 1)).Select(p => p.PartNumber).Should().Equal(2);
        (await Store.ListMultipartUploadsAsync(Box)).Select(u => u.UploadId).Should().Equal("u1", "u0");
        (await Store.GetStatisticsAsync()).WriteOperations.Should().Be(0, "parts are not blob versions");

        await ShouldChangeNothingAsync(
            () => Store.CompleteMultipartUploadAsync(new MultipartCompletion { UploadId = "u1", Parts = [new(1, p1.Part.ETag), new(2, "\"wrong\"")], MinimumPartSize = 0, VersionId = "v", Now = T(3) }).AsTask(),
            typeof(InvalidPartException));
        await ShouldChangeNothingAsync(
            () => Store.CompleteMultipartUploadAsync(new MultipartCompletion { UploadId = "u1", Parts = [new(1, p1.Part.ETag), new(2, p2.Part.ETag)], MinimumPartSize = 5000, VersionId = "v", Now = T(3) }).AsTask(),
            typeof(InvalidPartException));

        var blob = await Store.CompleteMultipartUploadAsync(new MultipartCompletion { UploadId = "u1", Parts = [new(1, p1.Part.ETag), new(2, p2.Part.ETag)], MinimumPartSize = 1000, VersionId = "vm", Now = T(3) });

        blob.Chunks.Should().Equal(Chunk(1), Chunk(2), Chunk(3));
        blob.Properties.PartCount.Should().Be(2);
        blob.Properties.Size.Should().Be(3000);
        blob.Properties.ContentHash.Should().Be(MultipartHash.Composite([p1.Part.ContentHash, p2.Part.ContentHash]));
        blob.Properties.ContentType.Should().Be("video/mp4");
        (await Store.GetBlobAsync(Box, "movie"))!.Properties.Should().BeEquivalentTo(blob.Properties, o => o.ComparingRecordsByMembers());
        (await Store.GetMultipartUploadAsync("u1")).Should().BeNull();
        (await ReferencesAsync(Chunk(1))).Should().Be(1, "references move from the part to the blob");
        (await ReferencesAsync(Chunk(4))).Should().Be(0, "a part not named is released");
        var stats = await Store.GetStatisticsAsync();
        stats.WriteOperations.Should().Be(1);
        stats.StoredBytes.Should().Be(3000);
        await FluentActions.Awaiting(() => Store.CommitPartAsync(Part("u1", 4, T(4), Chunk(5)), T(4)).AsTask()).Should().ThrowAsync<UploadNotFoundException>();
        (await Store.ContainsChunkAsync(Chunk(5).Id)).Should().BeFalse();
        await FluentActions.Awaiting(() => Store.ListPartsAsync("u1", 0, 10).AsTask()).Should().ThrowAsync<UploadNotFoundException>();
    }

    [Test]
    public async Task Aborting_or_deleting_the_container_releases_an_uploads_parts()
    {
        await CreateContainerAsync();
        await FluentActions.Awaiting(() => Store.CreateMultipartUploadAsync(Upload("u", "x", T0, container: "nope")).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
        await Store.CreateMultipartUploadAsync(Upload("u1", "a", T0));
        await Store.CreateMultipartUploadAsync(Upload("u2", "b", T(5)));
        await Store.CommitPartAsync(Part("u1", 1, T0, Chunk(1)), T0);
        await Store.CommitPartAsync(Part("u2", 1, T(5), Chunk(2)), T(5));
        (await Store.GetStaleMultipartUploadsAsync(T(1), 10)).Should().Equal("u1");
        var parts = new List<string>();
        await foreach (var part in Store.EnumeratePartsAsync()) parts.Add(part.UploadId + ":" + part.Part.PartNumber);
        parts.Should().Equal("u1:1", "u2:1");

        await Store.AbortMultipartUploadAsync("u1", T(6));
        (await ReferencesAsync(Chunk(1))).Should().Be(0);
        await FluentActions.Awaiting(() => Store.AbortMultipartUploadAsync("u1", T(6)).AsTask()).Should().ThrowAsync<UploadNotFoundException>();

        await Store.DeleteContainerAsync(Box, deleteContents: false, T(7));
        (await ReferencesAsync(Chunk(2))).Should().Be(0);
        (await Store.GetMultipartUploadAsync("u2")).Should().BeNull();
    }

    // ---------------------------------------------------------------- CDN configuration

    [Test]
    public async Task Cdn_configuration_defaults_to_disabled_and_round_trips_across_a_reopen()
    {
        await CreateContainerAsync();
        (await Store.GetCdnConfigurationAsync(Box)).Should().BeSameAs(CdnConfiguration.Disabled);

        var configuration = new CdnConfiguration
        {
            Enabled = true,
            EdgeLocations = ["us-east-1", "eu-west-1", "ap-southeast-1"],
            TimeToLive = TimeSpan.FromSeconds(7200),
            CacheControl = "public, max-age=7200, immutable",
            CustomDomain = "images.example.com",
            MaxCacheableSize = 123_456,
        };
        await Store.SetCdnConfigurationAsync(Box, configuration);
        (await Store.GetCdnConfigurationAsync(Box)).Should().BeEquivalentTo(configuration);

        await ReopenStoreAsync();
        var read = await Store.GetCdnConfigurationAsync(Box);
        read.Should().BeEquivalentTo(configuration);
        read!.EdgeLocations.Should().Equal("us-east-1", "eu-west-1", "ap-southeast-1");

        // Replaced whole, nullable settings included.
        await Store.SetCdnConfigurationAsync(Box, new CdnConfiguration { Enabled = false, TimeToLive = TimeSpan.Zero, MaxCacheableSize = 0 });
        (await Store.GetCdnConfigurationAsync(Box)).Should().BeEquivalentTo(new CdnConfiguration { Enabled = false, TimeToLive = TimeSpan.Zero, MaxCacheableSize = 0 });
    }

    [Test]
    public async Task A_custom_domain_finds_its_container_while_its_cdn_is_enabled_and_serves_one_container()
    {
        await CreateContainerAsync("images");
        await CreateContainerAsync("videos");
        (await Store.FindContainerByCustomDomainAsync("images.example.com")).Should().BeNull();

        await Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, CustomDomain = "images.example.com" });
        (await Store.FindContainerByCustomDomainAsync("images.example.com")).Should().Be("images");
        (await Store.FindContainerByCustomDomainAsync("videos.example.com")).Should().BeNull();

        // Setting the same container again keeps its domain; another container cannot take it.
        await Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, CustomDomain = "images.example.com", TimeToLive = TimeSpan.FromHours(1) });
        var before = await Store.GetCdnConfigurationAsync("videos");
        var thrown = await FluentActions.Awaiting(() => Store.SetCdnConfigurationAsync("videos", new CdnConfiguration { Enabled = true, CustomDomain = "images.example.com" }).AsTask())
            .Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.CustomDomainInUse);
        thrown.Which.Message.Should().Contain("images.example.com").And.Contain("'images'");
        (await Store.GetCdnConfigurationAsync("videos")).Should().BeEquivalentTo(before, "a refused setting changes nothing");

        // A disabled CDN serves nothing at its domain, though the domain stays the container's.
        await Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = false, CustomDomain = "images.example.com" });
        (await Store.FindContainerByCustomDomainAsync("images.example.com")).Should().BeNull();
        await FluentActions.Awaiting(() => Store.SetCdnConfigurationAsync("videos", new CdnConfiguration { Enabled = true, CustomDomain = "images.example.com" }).AsTask())
            .Should().ThrowAsync<BlobStorageException>();

        // Deleting the container frees the domain.
        await Store.DeleteContainerAsync("images", deleteContents: false, T(1));
        await Store.SetCdnConfigurationAsync("videos", new CdnConfiguration { Enabled = true, CustomDomain = "images.example.com" });
        (await Store.FindContainerByCustomDomainAsync("images.example.com")).Should().Be("videos");
    }

    [Test]
    public async Task Cdn_configuration_of_a_missing_container_is_null_and_cannot_be_set()
    {
        (await Store.GetCdnConfigurationAsync("missing")).Should().BeNull();
        await CreateContainerAsync();
        await ShouldChangeNothingAsync(
            () => Store.SetCdnConfigurationAsync("missing", new CdnConfiguration { Enabled = true }).AsTask(),
            typeof(ContainerNotFoundException));
        (await Store.GetCdnConfigurationAsync("missing")).Should().BeNull();
    }

    [Test]
    public async Task Deleting_a_container_deletes_its_cdn_configuration()
    {
        await CreateContainerAsync();
        await Store.SetCdnConfigurationAsync(Box, new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1"] });
        await Store.DeleteContainerAsync(Box, deleteContents: false, T(1));
        (await Store.GetCdnConfigurationAsync(Box)).Should().BeNull();

        await CreateContainerAsync(Box, T(2));
        (await Store.GetCdnConfigurationAsync(Box)).Should().BeSameAs(CdnConfiguration.Disabled);
    }

    // ---------------------------------------------------------------- lifetime

    [Test]
    public async Task A_cancelled_call_changes_nothing()
    {
        await CreateContainerAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var before = await DescribeAsync();
        await FluentActions.Awaiting(() => Store.CommitBlobAsync(Blob(Box, "a", T0, Chunk(1)), null, cancelled.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
        await FluentActions.Awaiting(() => Store.CreateContainerAsync(new ContainerProperties { Name = "other" }, cancelled.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
        await FluentActions.Awaiting(() => Store.GetBlobAsync(Box, "a", cancelled.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
        (await DescribeAsync()).Should().Equal(before);
    }

    [Test]
    public async Task A_disposed_store_refuses_calls()
    {
        await CreateContainerAsync();
        await Store.DisposeAsync();
        await Store.DisposeAsync();
        await FluentActions.Awaiting(() => Store.GetContainerAsync(Box).AsTask()).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(() => CommitAsync(Blob(Box, "a", T0, Chunk(1)))).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(async () => await Store.EnumerateBlobsAsync().ToListAsync()).Should().ThrowAsync<ObjectDisposedException>();
    }
}
