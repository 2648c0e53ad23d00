using System.IO.Pipelines;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Tests.Support;
using CsCheck;

namespace BlobStorage.Tests.Properties;

/// <summary>
/// Random sequences of operations run against a real store and against an in-memory model of it.
/// After every step the two must agree: results, exception types, bytes, listings (in UTF-8 byte
/// order), properties and statistics. CsCheck shrinks a failing sequence and prints its seed.
/// </summary>
[TestFixture]
public sealed class ModelBasedTests
{
    // 30 sequences keep CI fast; set BLOBSTORAGE_MODEL_ITERATIONS for a longer hunt (CsCheck_Seed replays a failure).
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("BLOBSTORAGE_MODEL_ITERATIONS"), out var iterations) ? iterations : 30;

    [Test]
    public async Task Random_operation_sequences_agree_with_an_in_memory_model()
    {
        await ModelOps.Sequence.SampleAsync(
            (ops, statisticsEveryStep) => new ModelRun(ops, statisticsEveryStep).RunAsync(),
            writeLine: TestContext.Out.WriteLine,
            iter: Iterations,
            print: ModelOps.Print);
    }
}

public enum Cond
{
    None,
    IfNoneMatchAny,
    IfMatchCurrent,
    IfMatchStale,
    IfNoneMatchCurrent,
}

public enum RangeKind
{
    Whole,
    From,
    Last,
}

public abstract record Op;

/// <summary>Upload to a name, with conditions, tags/metadata set <paramref name="Meta"/>, through a stream or a pipe.</summary>
public sealed record UploadOp(int C, int N, int Content, int Meta, Cond Cond, bool ViaPipe) : Op;

/// <summary>Upload without conditions over the <paramref name="Pick"/>-th existing blob (or a fresh name when there is none).</summary>
public sealed record OverwriteOp(int Pick, int Content, int Meta) : Op;

public sealed record CopyOp(int SrcC, int SrcN, int DstC, int DstN, Cond DestCond) : Op;

public sealed record DeleteOp(int C, int N, Cond Cond) : Op;

public sealed record UpdateMetadataOp(int C, int N, int Update, Cond Cond) : Op;

public sealed record ListOp(int C, int Prefix, bool Delimiter, int PageSize) : Op;

public sealed record DownloadOp(int C, int N, RangeKind Kind, int A, int B, Cond Cond) : Op;

public sealed record MaintenanceOp : Op;

public sealed record ReopenOp : Op;

/// <summary>Reads the statistics (which writes the access counts gathered so far).</summary>
public sealed record StatisticsOp : Op;

/// <summary>The name space, content pool and generators of the model test.</summary>
internal static class ModelOps
{
    public static readonly string[] Containers = ["alpha", "beta-2"];

    // "Z" sorts before "a"; "\uFF21" (EF BC A1) sorts before "😀" (F0 9F 98 80) in UTF-8, after it in UTF-16.
    public static readonly string[] Names = ["a", "Z", "dir", "dir/x", "dir/sub/y", "é/x", "\uFF21", "😀"];

    public static readonly string?[] Prefixes = [null, "", "d", "dir", "dir/", "dir/sub/", "é", "😀", "q"];

    public static readonly int?[] FromLengths = [null, 1, 100, TestStore.ChunkSize, 70_000];

    public static readonly int[] LastLengths = [1, 100, TestStore.ChunkSize + 1, 300_000, 7];

    /// <summary>Contents of 0, 1, 100, 64 KiB, 64 KiB + 1 and 200 KiB bytes; several share chunks, so deduplication happens within and across blobs.</summary>
    public static readonly byte[][] Contents = MakeContents();

    public static readonly string[] ContentHashes = [.. Contents.Select(c => Streams.Sha256(c))];

    /// <summary>
    /// Whether a content is small enough to be kept inline in the metadata row rather than as chunk
    /// files: it ends within the first chunk and fits under the (default) inline threshold.
    /// </summary>
    public static readonly bool[] IsInline = [.. Contents.Select(c => c.Length < TestStore.ChunkSize && c.Length <= new BlobStorageOptions().InlineThreshold)];

    /// <summary>The chunks each content is cut into; none for inline content.</summary>
    public static readonly (ChunkId Id, int Length)[][] ContentChunks = [.. Contents.Select((c, i) => IsInline[i] ? [] : Chunk(c))];

    public static readonly (IReadOnlyDictionary<string, string>? Tags, IReadOnlyDictionary<string, string>? Metadata, string? ContentType)[] UploadMeta =
    [
        (null, null, null),
        (new Dictionary<string, string> { ["a"] = "1" }, null, null),
        (new Dictionary<string, string> { ["a"] = "2", ["b"] = "x y" }, new Dictionary<string, string> { ["Owner"] = "me" }, "text/plain"),
    ];

    public static readonly BlobMetadataUpdate[] Updates =
    [
        new() { Tags = new Dictionary<string, string?> { ["a"] = "1" } },
        new() { Tags = new Dictionary<string, string?> { ["a"] = null, ["c"] = "3" } },
        new() { Tags = new Dictionary<string, string?> { ["z"] = "26" }, Mode = MetadataUpdateMode.Replace },
        new() { Tags = new Dictionary<string, string?>(), Mode = MetadataUpdateMode.Replace },
        new() { Metadata = new Dictionary<string, string?> { ["Owner"] = "x" } },
        new() { Metadata = new Dictionary<string, string?> { ["owner"] = null } },
        new() { Metadata = new Dictionary<string, string?> { ["k"] = "v" }, Tags = new Dictionary<string, string?> { ["b"] = "2" }, Mode = MetadataUpdateMode.Replace },
    ];

    private static readonly Gen<int> C = Gen.Int[0, Containers.Length - 1];
    private static readonly Gen<int> N = Gen.Int[0, Names.Length - 1];
    private static readonly Gen<int> Content = Gen.Int[0, Contents.Length - 1];
    private static readonly Gen<int> Meta = Gen.Int[0, UploadMeta.Length - 1];

    private static readonly Gen<Cond> AnyCond = Gen.Frequency(
        (6, Cond.None), (2, Cond.IfNoneMatchAny), (2, Cond.IfMatchCurrent), (1, Cond.IfMatchStale), (1, Cond.IfNoneMatchCurrent));

    private static readonly Gen<Cond> CopyCond = Gen.Frequency((3, Cond.None), (1, Cond.IfNoneMatchAny), (1, Cond.IfMatchCurrent));

    public static readonly Gen<Op> Operation = Gen.Frequency<Op>(
        (6, Gen.Select(C, N, Content, Meta, AnyCond, Gen.Bool, (c, n, x, m, k, p) => (Op)new UploadOp(c, n, x, m, k, p))),
        (3, Gen.Select(Gen.Int[0, 99], Content, Meta, (i, x, m) => (Op)new OverwriteOp(i, x, m))),
        (3, Gen.Select(C, N, C, N, CopyCond, (sc, sn, dc, dn, k) => (Op)new CopyOp(sc, sn, dc, dn, k))),
        (3, Gen.Select(C, N, AnyCond, (c, n, k) => (Op)new DeleteOp(c, n, k))),
        (3, Gen.Select(C, N, Gen.Int[0, Updates.Length - 1], AnyCond, (c, n, u, k) => (Op)new UpdateMetadataOp(c, n, u, k))),
        (3, Gen.Select(C, Gen.Int[0, Prefixes.Length - 1], Gen.Bool, Gen.Int[1, 4], (c, p, d, s) => (Op)new ListOp(c, p, d, s))),
        (5, Gen.Select(C, N, Gen.Enum<RangeKind>(), Gen.Int[0, 1000], Gen.Int[0, 4], AnyCond, (c, n, r, a, b, k) => (Op)new DownloadOp(c, n, r, a, b, k))),
        (1, Gen.Const<Op>(new MaintenanceOp())),
        (1, Gen.Const<Op>(new ReopenOp())),
        (2, Gen.Const<Op>(new StatisticsOp())));

    /// <summary>
    /// Up to 40 operations, and whether statistics are compared after every step. They are in half
    /// the runs; not in the other half, because reading them writes the access counts gathered so
    /// far, and sequences must also run in which counts are still pending when a blob changes.
    /// </summary>
    public static readonly Gen<(Op[] Ops, bool StatisticsEveryStep)> Sequence = Gen.Select(Operation.Array[1, 40], Gen.Bool);

    public static string Print((Op[] Ops, bool StatisticsEveryStep) sample) =>
        $"statistics compared after {(sample.StatisticsEveryStep ? "every step" : "StatisticsOp, maintenance and the end only")}{Environment.NewLine}" +
        string.Join(Environment.NewLine, sample.Ops.Select((op, i) => $"{i,3}: {op}"));

    private static byte[][] MakeContents()
    {
        var chunk = Streams.Bytes(TestStore.ChunkSize, seed: 3);
        var chunkPlusOne = chunk.Append((byte)7).ToArray();
        var threeChunksAndTail = chunk.Concat(chunk).Concat(chunk).Concat(Streams.Bytes(8 * 1024, seed: 5)).ToArray();
        return
        [
            [],
            [0x42],
            Streams.Bytes(100, seed: 2),
            chunk,
            chunkPlusOne,
            threeChunksAndTail,
            Streams.Bytes(100, seed: 6),
            Streams.Bytes(200 * 1024, seed: 7),
        ];
    }

    private static (ChunkId, int)[] Chunk(byte[] content) => [.. ChunkNames.Of(content, TestStore.ChunkSize).Select(c => (c.Id, c.Length))];
}

/// <summary>One sample: a fresh store, a model, and the sequence applied to both.</summary>
internal sealed class ModelRun(Op[] ops, bool statisticsEveryStep = false)
{
    private const string FabricatedETag = "\"0x0123456789ABCDEF\"";

    private readonly Dictionary<(int C, int N), ModelBlob> _blobs = [];
    private readonly Dictionary<(int C, int N), List<string>> _history = [];
    private readonly HashSet<string> _seenETags = new(StringComparer.Ordinal);
    private TestStore _test = null!;
    private long _reads, _bytesRead, _writes, _deletes;
    private int _inlineCopies;

    private sealed class ModelBlob
    {
        public required int Content { get; init; }
        public required IReadOnlyDictionary<string, string> Tags { get; set; }
        public required IReadOnlyDictionary<string, string> Metadata { get; set; }
        public required string ContentType { get; init; }
        public required string ETag { get; set; }
        public required string VersionId { get; init; }
        public required DateTimeOffset CreatedOn { get; init; }
        public required DateTimeOffset LastModified { get; set; }
        public long AccessCount { get; set; }
        public DateTimeOffset? LastAccessedOn { get; set; }

        /// <summary>Which stored copy of inline content the blob holds: each upload stores its own, a copy shares its source's.</summary>
        public int? InlineCopy { get; init; }
    }

    private IBlobStore Store => _test.Store;

    private DateTimeOffset Now => _test.Time.GetUtcNow();

    public async Task RunAsync()
    {
        await using var test = await TestStore.OpenAsync();
        _test = test;
        foreach (var container in ModelOps.Containers) await Store.CreateContainerAsync(container);

        for (var i = 0; i < ops.Length; i++)
        {
            try
            {
                // Every step happens a second later, so timestamps show which step wrote them.
                _test.Time.Advance(TimeSpan.FromSeconds(1));
                await ApplyAsync(ops[i]);
                await CheckStateAsync();
                if (statisticsEveryStep) await CheckStatisticsAsync();
            }
            catch (Exception ex)
            {
                throw new AssertionException($"Step {i} ({ops[i]}) disagreed with the model: {ex.Message}", ex);
            }
        }

        try
        {
            await FinalCheckAsync();
        }
        catch (Exception ex)
        {
            throw new AssertionException($"The final check disagreed with the model: {ex.Message}", ex);
        }
    }

    private Task ApplyAsync(Op op) => op switch
    {
        UploadOp u => UploadAsync((u.C, u.N), u.Content, u.Meta, u.Cond, u.ViaPipe),
        OverwriteOp o => OverwriteAsync(o),
        CopyOp c => CopyAsync(c),
        DeleteOp d => DeleteAsync(d),
        UpdateMetadataOp m => UpdateMetadataAsync(m),
        ListOp l => ListAsync(l),
        DownloadOp d => DownloadAsync(d),
        MaintenanceOp => MaintenanceAsync(),
        ReopenOp => _test.ReopenAsync(),
        StatisticsOp => CheckStatisticsAsync(),
        _ => throw new InvalidOperationException($"Unknown operation {op}."),
    };

    // ---- operations ----

    private async Task UploadAsync((int C, int N) key, int content, int meta, Cond cond, bool viaPipe)
    {
        var current = Get(key);
        var (tags, metadata, contentType) = ModelOps.UploadMeta[meta];
        var options = new BlobUploadOptions { Tags = tags, Metadata = metadata, ContentType = contentType, Conditions = Conditions(key, cond) };
        var bytes = ModelOps.Contents[content];
        var (properties, error) = await TryAsync(() => viaPipe
            ? Store.UploadAsync(ModelOps.Containers[key.C], ModelOps.Names[key.N], PipeReader.Create(new MemoryStream(bytes, writable: false)), options)
            : Store.UploadBytesAsync(ModelOps.Containers[key.C], ModelOps.Names[key.N], bytes, options));
        Expect(error, Fails(current, cond) ? typeof(PreconditionFailedException) : null);
        if (properties is null) return;

        var blob = new ModelBlob
        {
            Content = content,
            Tags = tags ?? new Dictionary<string, string>(),
            Metadata = metadata ?? new Dictionary<string, string>(),
            ContentType = contentType ?? "application/octet-stream",
            ETag = properties.ETag,
            VersionId = properties.VersionId,
            CreatedOn = current?.CreatedOn ?? Now,
            LastModified = Now,
            InlineCopy = ModelOps.IsInline[content] ? ++_inlineCopies : null,
        };
        NewVersion(key, current, blob);
        AssertProperties(properties, key, blob);
    }

    private Task OverwriteAsync(OverwriteOp op)
    {
        var keys = _blobs.Keys.Order().ToList();
        var key = keys.Count == 0 ? (0, op.Pick % ModelOps.Names.Length) : keys[op.Pick % keys.Count];
        return UploadAsync(key, op.Content, op.Meta, Cond.None, viaPipe: false);
    }

    private async Task CopyAsync(CopyOp op)
    {
        var source = Get((op.SrcC, op.SrcN));
        var destination = Get((op.DstC, op.DstN));
        var options = new BlobCopyOptions { DestinationConditions = Conditions((op.DstC, op.DstN), op.DestCond) };
        var (properties, error) = await TryAsync(() => Store.CopyAsync(
            ModelOps.Containers[op.SrcC], ModelOps.Names[op.SrcN], ModelOps.Containers[op.DstC], ModelOps.Names[op.DstN], options));
        Expect(error, source is null ? typeof(BlobNotFoundException) : Fails(destination, op.DestCond) ? typeof(PreconditionFailedException) : null);
        if (properties is null) return;

        var blob = new ModelBlob
        {
            Content = source!.Content,
            Tags = source.Tags,
            Metadata = source.Metadata,
            ContentType = source.ContentType,
            ETag = properties.ETag,
            VersionId = properties.VersionId,
            CreatedOn = destination?.CreatedOn ?? Now,
            LastModified = Now,
            InlineCopy = source.InlineCopy,
        };
        NewVersion((op.DstC, op.DstN), destination, blob);
        AssertProperties(properties, (op.DstC, op.DstN), blob);
    }

    private async Task DeleteAsync(DeleteOp op)
    {
        var key = (op.C, op.N);
        var current = Get(key);
        var conditions = Conditions(key, op.Cond);
        var (_, error) = await TryAsync(async () =>
        {
            await Store.DeleteAsync(ModelOps.Containers[op.C], ModelOps.Names[op.N], conditions);
            return true;
        });
        Expect(error, current is null ? typeof(BlobNotFoundException) : Fails(current, op.Cond) ? typeof(PreconditionFailedException) : null);
        if (error is not null) return;
        _blobs.Remove(key);
        _deletes++;
    }

    private async Task UpdateMetadataAsync(UpdateMetadataOp op)
    {
        var key = (op.C, op.N);
        var current = Get(key);
        var template = ModelOps.Updates[op.Update];
        var update = new BlobMetadataUpdate { Tags = template.Tags, Metadata = template.Metadata, Mode = template.Mode, Conditions = Conditions(key, op.Cond) };
        var (properties, error) = await TryAsync(() => Store.UpdateMetadataAsync(ModelOps.Containers[op.C], ModelOps.Names[op.N], update));
        Expect(error, current is null ? typeof(BlobNotFoundException) : Fails(current, op.Cond) ? typeof(PreconditionFailedException) : null);
        if (properties is null) return;

        var blob = current!;
        blob.Tags = Apply(blob.Tags, update.Tags, update.Mode, ignoreCase: false);
        blob.Metadata = Apply(blob.Metadata, update.Metadata, update.Mode, ignoreCase: true);
        properties.ETag.Should().NotBe(blob.ETag, "a metadata change gives the blob a new ETag");
        _seenETags.Add(properties.ETag).Should().BeTrue("an ETag is never reused");
        Remember(key, properties.ETag);
        blob.ETag = properties.ETag;
        blob.LastModified = Now;
        AssertProperties(properties, key, blob);
    }

    private async Task ListAsync(ListOp op)
    {
        var container = ModelOps.Containers[op.C];
        var prefix = ModelOps.Prefixes[op.Prefix];
        var delimiter = op.Delimiter ? "/" : null;
        var names = new List<string>();
        var prefixes = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Store.ListAsync(container, new BlobListOptions { Prefix = prefix, Delimiter = delimiter, PageSize = op.PageSize, ContinuationToken = token, Include = BlobListTraits.All });
            (page.Blobs.Count + page.CommonPrefixes.Count).Should().BeLessThanOrEqualTo(op.PageSize, "a page holds at most PageSize entries");
            foreach (var blob in page.Blobs)
            {
                var n = Array.IndexOf(ModelOps.Names, blob.Name);
                n.Should().BeGreaterThanOrEqualTo(0, $"'{blob.Name}' is a name the test used");
                var model = Get((op.C, n));
                model.Should().NotBeNull($"'{blob.Name}' was listed, so it exists");
                AssertProperties(blob, (op.C, n), model!);
                names.Add(blob.Name);
            }

            prefixes.AddRange(page.CommonPrefixes);
            token = page.ContinuationToken;
            (++pages).Should().BeLessThan(100, "a listing of a few blobs ends");
        }
        while (token is not null);

        var expectedNames = new List<string>();
        var expectedPrefixes = new SortedSet<string>(BlobNames.Utf8Comparer);
        foreach (var (key, _) in _blobs.Where(b => b.Key.C == op.C))
        {
            var name = ModelOps.Names[key.N];
            if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = name[(prefix?.Length ?? 0)..];
            var cut = delimiter is null ? -1 : rest.IndexOf(delimiter, StringComparison.Ordinal);
            if (cut >= 0) expectedPrefixes.Add(name[..((prefix?.Length ?? 0) + cut + delimiter!.Length)]);
            else expectedNames.Add(name);
        }

        expectedNames.Sort(BlobNames.CompareOrdinalUtf8);
        names.Should().Equal(expectedNames, "blobs are listed once each, in UTF-8 byte order");
        prefixes.Should().Equal(expectedPrefixes, "common prefixes are listed once each, in UTF-8 byte order");
    }

    private async Task DownloadAsync(DownloadOp op)
    {
        var key = (op.C, op.N);
        var current = Get(key);
        var size = current is null ? 0 : ModelOps.Contents[current.Content].Length;
        BlobRange? range = op.Kind switch
        {
            RangeKind.Whole => null,
            RangeKind.From => new BlobRange((long)size * op.A / 1000, ModelOps.FromLengths[op.B]),
            _ => BlobRange.Last(ModelOps.LastLengths[op.B]),
        };
        var (offset, length) = op.Kind switch
        {
            RangeKind.Whole => (0L, (long)size),
            RangeKind.From => (range!.Value.Offset, Math.Min(range.Value.Length ?? long.MaxValue, size - range.Value.Offset)),
            _ => (size - Math.Min(range!.Value.Length!.Value, size), Math.Min(range.Value.Length!.Value, size)),
        };
        var rangeIsValid = op.Kind switch
        {
            RangeKind.Whole => true,
            RangeKind.From => offset < size,
            _ => size > 0,
        };

        var options = new BlobDownloadOptions { Range = range, Conditions = Conditions(key, op.Cond) };
        var (result, error) = await TryAsync(async () =>
        {
            await using var download = await Store.DownloadAsync(ModelOps.Containers[op.C], ModelOps.Names[op.N], options);
            return (download.Properties, download.Offset, download.Length, Bytes: await Streams.ReadAllAsync(download.Content));
        });
        Expect(error, current is null ? typeof(BlobNotFoundException)
            : Fails(current, op.Cond) ? typeof(PreconditionFailedException)
            : !rangeIsValid ? typeof(InvalidRangeException)
            : null);
        if (error is not null) return;

        var model = current!;
        model.AccessCount++;
        model.LastAccessedOn = Now;
        _reads++;
        _bytesRead += length;
        result.Offset.Should().Be(offset);
        result.Length.Should().Be(length);
        result.Bytes.Length.Should().Be((int)length);
        result.Bytes.AsSpan().SequenceEqual(ModelOps.Contents[model.Content].AsSpan((int)offset, (int)length)).Should().BeTrue("a download returns exactly the stored bytes of the range");
        AssertProperties(result.Properties, key, model, access: false);
    }

    private async Task MaintenanceAsync()
    {
        _test.Time.Advance(TimeSpan.FromMinutes(16));
        await Store.RunMaintenanceAsync();
        await CheckStatisticsAsync();

        // Past the grace period nothing unreferenced is left: stored chunks are exactly the distinct chunks of the model's blobs,
        // plus the inline content of each upload still referred to (copies share their source's).
        var chunks = _blobs.Values.SelectMany(b => ModelOps.ContentChunks[b.Content]).Distinct().ToList();
        var inlineBytes = _blobs.Values.Where(b => b.InlineCopy is not null).DistinctBy(b => b.InlineCopy).Sum(b => (long)ModelOps.Contents[b.Content].Length);
        var statistics = await Store.GetStatisticsAsync();
        statistics.ChunkCount.Should().Be(chunks.Count, "identical chunks are stored once");
        statistics.StoredBytes.Should().Be(chunks.Sum(c => (long)c.Length) + inlineBytes, "identical chunks are stored once, inline content once per upload");
        var report = await Store.VerifyAsync();
        report.IsClean.Should().BeTrue(Describe(report));
        report.ChunksAwaitingCollection.Should().Be(0, "the collector removed every chunk past its grace period");
        report.ChunksChecked.Should().Be(chunks.Count);
    }

    // ---- checks ----

    private async Task CheckStateAsync()
    {
        for (var c = 0; c < ModelOps.Containers.Length; c++)
        {
            for (var n = 0; n < ModelOps.Names.Length; n++)
            {
                var model = Get((c, n));
                var (properties, error) = await TryAsync(() => Store.GetPropertiesAsync(ModelOps.Containers[c], ModelOps.Names[n]));
                Expect(error, model is null ? typeof(BlobNotFoundException) : null);
                if (model is not null) AssertProperties(properties!, (c, n), model);
            }
        }

    }

    /// <summary>Compares the statistics (reading them writes the access counts gathered so far).</summary>
    private async Task CheckStatisticsAsync()
    {
        var statistics = await Store.GetStatisticsAsync();
        statistics.TotalBlobs.Should().Be(_blobs.Count, "TotalBlobs counts the blobs");
        statistics.TotalBytes.Should().Be(_blobs.Values.Sum(b => (long)ModelOps.Contents[b.Content].Length), "TotalBytes sums their sizes");
        statistics.ReadOperations.Should().Be(_reads, "every successful download counts once");
        statistics.BytesRead.Should().Be(_bytesRead, "BytesRead sums the lengths downloaded");
        statistics.WriteOperations.Should().Be(_writes, "uploads and copies count as writes; failed calls do not");
        statistics.DeleteOperations.Should().Be(_deletes, "successful deletes count");
        for (var c = 0; c < ModelOps.Containers.Length; c++)
        {
            var blobs = _blobs.Where(b => b.Key.C == c).Select(b => ModelOps.Contents[b.Value.Content].Length).ToList();
            var entry = statistics.Containers.SingleOrDefault(s => s.Name == ModelOps.Containers[c]);
            if (entry is null)
            {
                blobs.Should().BeEmpty($"container '{ModelOps.Containers[c]}' has blobs, so it appears in the statistics");
                continue;
            }

            entry.BlobCount.Should().Be(blobs.Count, $"the blob count of '{entry.Name}'");
            entry.TotalBytes.Should().Be(blobs.Sum(b => (long)b), $"the bytes of '{entry.Name}'");
        }
    }

    private async Task FinalCheckAsync()
    {
        foreach (var ((c, n), model) in _blobs.OrderBy(b => b.Key))
        {
            var bytes = await Store.DownloadBytesAsync(ModelOps.Containers[c], ModelOps.Names[n]);
            bytes.Should().Equal(ModelOps.Contents[model.Content], $"'{ModelOps.Names[n]}' in '{ModelOps.Containers[c]}' reads back as last written");
            model.AccessCount++;
            model.LastAccessedOn = Now;
            _reads++;
            _bytesRead += bytes.Length;
        }

        await CheckStatisticsAsync();
        var report = await Store.VerifyAsync(verifyContent: true);
        report.IsClean.Should().BeTrue(Describe(report));
        report.BlobsChecked.Should().Be(_blobs.Count);
    }

    private static void AssertProperties(BlobProperties actual, (int C, int N) key, ModelBlob model, bool access = true)
    {
        var what = $"blob '{ModelOps.Names[key.N]}' in '{ModelOps.Containers[key.C]}'";
        actual.Container.Should().Be(ModelOps.Containers[key.C]);
        actual.Name.Should().Be(ModelOps.Names[key.N]);
        actual.Size.Should().Be(ModelOps.Contents[model.Content].Length, $"the size of {what}");
        actual.ContentHash.Should().Be(ModelOps.ContentHashes[model.Content], $"the SHA-256 of {what}");
        actual.ETag.Should().Be(model.ETag, $"the ETag of {what}");
        actual.VersionId.Should().Be(model.VersionId, $"the version of {what}");
        actual.ContentType.Should().Be(model.ContentType, $"the content type of {what}");
        actual.StorageClass.Should().Be(StorageClass.Standard, $"the storage class of {what}");
        actual.CreatedOn.Should().Be(model.CreatedOn, $"the creation time of {what} (kept across overwrites)");
        actual.LastModified.Should().Be(model.LastModified, $"the last modification of {what}");
        actual.Tags.Should().BeEquivalentTo(model.Tags, $"the tags of {what}");
        actual.Metadata.Should().BeEquivalentTo(model.Metadata, $"the metadata of {what}");
        if (access)
        {
            actual.AccessCount.Should().Be(model.AccessCount, $"the downloads of {what}");
            actual.LastAccessedOn.Should().Be(model.LastAccessedOn, $"the last download of {what}");
        }
    }

    private static void Expect(Exception? error, Type? expected)
    {
        if (expected is null)
        {
            error.Should().BeNull($"the model expects success, but the store threw {error}");
        }
        else
        {
            error.Should().NotBeNull($"the model expects {expected.Name}, but the call succeeded");
            error.Should().BeOfType(expected, $"the model expects {expected.Name}, but the store threw {error}");
        }
    }

    private static string Describe(VerificationReport report) =>
        $"verification must be clean: missing [{string.Join(", ", report.MissingChunks)}], unreferenced [{string.Join(", ", report.UnreferencedChunks)}], miscounted [{string.Join(", ", report.ReferenceCountMismatches)}]";

    private static async Task<(T? Value, Exception? Error)> TryAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return (await call(), null);
        }
        catch (Exception ex) when (ex is not AssertionException)
        {
            return (default, ex);
        }
    }

    // ---- the model ----

    private ModelBlob? Get((int C, int N) key) => _blobs.GetValueOrDefault(key);

    private void NewVersion((int C, int N) key, ModelBlob? previous, ModelBlob blob)
    {
        _seenETags.Add(blob.ETag).Should().BeTrue("every new version gets an ETag never used before");
        if (previous is not null) blob.VersionId.Should().NotBe(previous.VersionId, "an overwrite makes a new version");
        Remember(key, blob.ETag);
        _blobs[key] = blob;
        _writes++;
    }

    private void Remember((int C, int N) key, string etag)
    {
        if (!_history.TryGetValue(key, out var list)) _history[key] = list = [];
        list.Add(etag);
    }

    private BlobRequestConditions? Conditions((int C, int N) key, Cond cond) => cond switch
    {
        Cond.None => null,
        Cond.IfNoneMatchAny => new BlobRequestConditions { IfNoneMatch = "*" },
        Cond.IfMatchCurrent => new BlobRequestConditions { IfMatch = Get(key)?.ETag ?? FabricatedETag },
        Cond.IfMatchStale => new BlobRequestConditions { IfMatch = StaleETag(key) },
        Cond.IfNoneMatchCurrent => new BlobRequestConditions { IfNoneMatch = Get(key)?.ETag ?? FabricatedETag },
        _ => throw new ArgumentOutOfRangeException(nameof(cond)),
    };

    /// <summary>Whether the conditions <see cref="Conditions"/> makes fail against the blob's current state.</summary>
    private static bool Fails(ModelBlob? current, Cond cond) => cond switch
    {
        Cond.None => false,
        Cond.IfNoneMatchAny => current is not null,
        Cond.IfMatchCurrent => current is null,
        Cond.IfMatchStale => true,
        Cond.IfNoneMatchCurrent => current is not null,
        _ => throw new ArgumentOutOfRangeException(nameof(cond)),
    };

    /// <summary>An ETag this name (or another) once had, never its current one.</summary>
    private string StaleETag((int C, int N) key)
    {
        var current = Get(key)?.ETag;
        if (_history.TryGetValue(key, out var list) && list.LastOrDefault(e => e != current) is { } own) return own;
        return _seenETags.FirstOrDefault(e => e != current) ?? FabricatedETag;
    }

    private static Dictionary<string, string> Apply(IReadOnlyDictionary<string, string> current, IReadOnlyDictionary<string, string?>? change, MetadataUpdateMode mode, bool ignoreCase)
    {
        if (change is null) return new Dictionary<string, string>(current, StringComparer.Ordinal);
        var result = mode == MetadataUpdateMode.Replace
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var (key, value) in change)
        {
            // Metadata keys compare without case: setting or removing 'owner' replaces or removes 'Owner'.
            foreach (var existing in result.Keys.Where(k => ignoreCase ? string.Equals(k, key, StringComparison.OrdinalIgnoreCase) : k == key).ToList())
            {
                result.Remove(existing);
            }

            if (value is not null) result[key] = value;
        }

        return result;
    }
}
