using System.Buffers.Text;
using System.Globalization;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Tests.Support;
using CsCheck;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Hostile;

/// <summary>
/// Fuzzes every entry point with CsCheck-generated names, ranges, conditions, tags, metadata, part
/// numbers, prefixes and continuation tokens. Each call returns, or throws an
/// <see cref="ArgumentException"/> or a <see cref="BlobStorageException"/>, never another type; the
/// store writes nothing outside its root and nothing but its database and chunk files inside it;
/// it verifies clean at the end. Replay with <c>BLOBSTORAGE_HOSTILE_SEED</c> (CsCheck's seed string).
/// </summary>
public class HostileInputTests
{
    private const string Main = "hostile";
    private const string Other = "other";
    private const int Iterations = 4000;

    // ---- generators ----

    /// <summary>A generator of one value (Gen.Const is ambiguous for null and for delegates).</summary>
    private static Gen<T> Always<T>(T value) => Gen.OneOf([value]);

    private static readonly Gen<char> HostileChar = Gen.Frequency(
        (12, Gen.Char['a', 'z']),
        (3, Gen.Char['A', 'Z']),
        (3, Gen.Char['0', '9']),
        (6, Gen.Char["/\\.%_-*?:<>|\"' ~+=#&@!$[]{}"]),
        (2, Gen.Char['\0', '\u001f']),
        (1, Gen.Char['\u007f', '\u009f']),
        (2, Gen.Char['\ud800', '\udfff']),
        (3, Gen.Char["\uff0f\u2024\u2025\u2026\u202e\u200b\ufeff\ufffe\uffff\u0301\u00e9\u3000\u2215\u2044\u00a0"]),
        (2, Gen.Char['\u0100', '\ud7ff']));

    private static readonly Gen<string> RandomText = HostileChar.Array[0, 24].Select(cs => new string(cs));

    private static readonly string[] SpecialBlobNames =
    [
        "", ".", "..", "a/../b", "../etc/passwd", "..\\..\\x", "a/./b", "/a", "a/", "a//b", "a\\b", "\0", "a\0b", "CON", "con", "NUL", "COM1",
        "LPT1", "PRN.txt", "a.", "a..", "a ", " a", "\uff0f", "a\uff0fb", "\u2024", "\u2024\u2024", "a/\u2024\u2024/b", "%2e%2e", "%2e%2e/x", "%2F",
        "..%2f..", "\ud800", "a\udc00b", "\udc00\ud800", "\ud83d\ude00", new string('a', 1024), new string('a', 1025), new string('\u00e9', 512),
        new string('\u00e9', 513), string.Concat(Enumerable.Repeat("\ud83d\ude00", 256)), string.Concat(Enumerable.Repeat("\ud83d\ude00", 257)) , "a%b", "a_b",
        "A%b", "*", "?", "~", "a:b", "a|b", "<>", "\u202ertl", "\t", " ", "\u3000", "a\u0301", "\u00e1", "x/y/z", "x/y/", "\u0085", "\u2028",
    ];

    private static readonly Gen<string> PathLike = RandomText.Array[1, 4].Select(parts => string.Join('/', parts));

    /// <summary>Names that pass the rules, mostly: letters, digits, punctuation and non-ASCII letters in segments.</summary>
    private static readonly Gen<string> PlausibleName = Gen.Frequency(
            (8, Gen.Char['a', 'z']), (2, Gen.Char['A', 'Z']), (2, Gen.Char['0', '9']), (3, Gen.Char["%_-. +=:@!$~*"]), (2, Gen.Char["\u00e9\u00df\u4e2d\uff0f\u2024\u0301"]))
        .Array[1, 10]
        .Array[1, 3]
        .Select(segments => string.Join('/', segments.Select(chars => new string(chars))));

    private static readonly Gen<string> BlobName = Gen.Frequency(
        (4, PlausibleName),
        (4, Gen.OneOf(SpecialBlobNames)),
        (5, RandomText),
        (2, PathLike),
        (1, Gen.Int[1020, 1030].Select(n => new string('b', n))));

    private static readonly Gen<string> ContainerName = Gen.Frequency(
        (3, Gen.OneOf(
            "", "a", "ab", "abc", "a-b", "-ab", "ab-", "a--b", "ABC", "abc_d", Main, Other, "missing", new string('a', 63), new string('a', 64),
            "con", "..", "a.b", "\0ab", "ab\u00e9", "a b", "ab/c", "ab\\c")),
        (3, Gen.Char["abcxyz019-"].Array[0, 70].Select(cs => new string(cs))),
        (2, RandomText));

    private static readonly Gen<string?> Prefix = Gen.Frequency(
        (2, Always<string?>(null)),
        (3, Gen.OneOf<string?>("", "a", "a%", "a_", "A", "a\\", "%", "_", "\\", "a%b", "x/", "dir/", "\u00e9", "\ud800", "\uffff", "\0", new string('p', 1100))),
        (3, RandomText.Select(s => (string?)s)));

    private static readonly Gen<string?> Delimiter = Gen.Frequency(
        (3, Always<string?>(null)),
        (3, Gen.OneOf<string?>("/", "", "%", "_", "\\", "//", "\ud800", "\u2024", "a")),
        (1, RandomText.Select(s => (string?)s)));

    private static readonly Gen<string?> TextOrNull = Gen.Frequency((2, Always<string?>(null)), (3, RandomText.Select(s => (string?)s)));

    private static readonly Gen<string?> RarelyText = Gen.Frequency(
        (6, Always<string?>(null)),
        (1, Gen.OneOf<string?>("text/plain", "text/plain; charset=utf-8", "a/b", new string('0', 64), new string('F', 64), new string('g', 64))),
        (1, RandomText.Select(s => (string?)s)));

    /// <summary>An ETag chosen when the call runs: a real one (sometimes quoted or weak), a wildcard, or noise.</summary>
    private static readonly Gen<Func<Context, string?>> ETag = Gen.Frequency(
        (3, Always<Func<Context, string?>>(_ => null)),
        (2, Gen.OneOf("*", " * ", "", "\"\"", "W/", "W/\"\"", "\0", "\ud800").Select(s => (Func<Context, string?>)(_ => s))),
        (3, Gen.Int[0, 1000].Select(i => (Func<Context, string?>)(c => c.ETags.Count == 0 ? "none" : c.ETags[i % c.ETags.Count]))),
        (1, Gen.Int[0, 1000].Select(i => (Func<Context, string?>)(c => c.ETags.Count == 0 ? "none" : $"\"{c.ETags[i % c.ETags.Count]}\""))),
        (1, Gen.Int[0, 1000].Select(i => (Func<Context, string?>)(c => c.ETags.Count == 0 ? "none" : $"W/\"{c.ETags[i % c.ETags.Count]}\""))),
        (2, RandomText.Select(s => (Func<Context, string?>)(_ => s))));

    private static readonly Gen<DateTimeOffset?> When = Gen.Frequency(
        (4, Always<DateTimeOffset?>(null)),
        (2, Gen.OneOf<DateTimeOffset?>(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero))),
        (1, Gen.Long[DateTimeOffset.MinValue.UtcTicks, DateTimeOffset.MaxValue.UtcTicks].Select(t => (DateTimeOffset?)new DateTimeOffset(t, TimeSpan.Zero))));

    private static readonly Gen<Func<Context, BlobRequestConditions?>> Conditions = Gen.Frequency(
        (3, Always<Func<Context, BlobRequestConditions?>>(_ => null)),
        (4, Gen.Select(ETag, ETag, When, When, (m, n, since, until) => (Func<Context, BlobRequestConditions?>)(c => new BlobRequestConditions { IfMatch = m(c), IfNoneMatch = n(c), IfModifiedSince = since, IfUnmodifiedSince = until }))));

    private static readonly Gen<Dictionary<string, string>?> Tags = Gen.Frequency(
        (3, Always<Dictionary<string, string>?>(null)),
        (3, Gen.Select(Gen.OneOf("k", "key", "a b", "x:y", "", new string('k', 129), "\u00e9", "k\0", "Key"), Gen.OneOf("v", "", " ", new string('v', 257), "\u00e9", "v\0", "a/b=c"), (k, v) => (k, v))
            .Array[0, 12]
            .Select(pairs => (Dictionary<string, string>?)pairs.DistinctBy(p => p.k, StringComparer.Ordinal).ToDictionary(p => p.k, p => p.v, StringComparer.Ordinal))),
        (1, Gen.Select(RandomText, RandomText, (k, v) => (k, v)).Array[0, 4].Select(pairs => (Dictionary<string, string>?)pairs.DistinctBy(p => p.k, StringComparer.Ordinal).ToDictionary(p => p.k, p => p.v, StringComparer.Ordinal))));

    private static readonly Gen<Dictionary<string, string>?> Metadata = Gen.Frequency(
        (3, Always<Dictionary<string, string>?>(null)),
        (3, Gen.Select(Gen.OneOf("a", "A", "_x", "x1", "1x", "", "a-b", "\u00e9", new string('m', 257), "Color", "color"), Gen.OneOf("v", "", "\u00e9\ud83d\ude00", "v\0", "\ud800", new string('v', 9000), "\"}{"), (k, v) => (k, v))
            .Array[0, 6]
            .Select(pairs => (Dictionary<string, string>?)pairs.DistinctBy(p => p.k, StringComparer.Ordinal).ToDictionary(p => p.k, p => p.v, StringComparer.Ordinal))),
        (1, Gen.Select(RandomText, RandomText, (k, v) => (k, v)).Array[0, 4].Select(pairs => (Dictionary<string, string>?)pairs.DistinctBy(p => p.k, StringComparer.Ordinal).ToDictionary(p => p.k, p => p.v, StringComparer.Ordinal))));

    private static readonly Gen<int> PartNumber = Gen.Frequency(
        (3, Gen.Int[1, 3]),
        (2, Gen.OneOf(0, -1, 10_000, 10_001, int.MaxValue, int.MinValue)),
        (1, Gen.Int));

    private static readonly Gen<long> Offset = Gen.Frequency(
        (3, Gen.Long[0, 200_000]),
        (1, Gen.OneOf(-1L, 0L, 1L, 65_535L, 65_536L, long.MaxValue, long.MinValue)));

    private static readonly Gen<Func<BlobRange?>> Range = Gen.Frequency(
        (3, Always<Func<BlobRange?>>(() => null)),
        (3, Gen.Select(Offset, Offset, Gen.Bool, (o, l, open) => (Func<BlobRange?>)(() => new BlobRange(o, open ? null : l)))),
        (1, Offset.Select(l => (Func<BlobRange?>)(() => BlobRange.Last(l)))),
        (1, Always<Func<BlobRange?>>(() => default(BlobRange))));

    private static readonly Gen<Func<Context, string?>> Token = Gen.Frequency(
        (4, Always<Func<Context, string?>>(_ => null)),
        (2, Gen.Byte.Array[0, 80].Select(b => (Func<Context, string?>)(_ => Base64Url.EncodeToString(b)))),
        (2, Gen.Select(Gen.Byte.Array[0, 40], Gen.Int[1000, 1100], (key, n) => (Func<Context, string?>)(_ =>
            Base64Url.EncodeToString([1, (byte)Main.Length, .. Encoding.UTF8.GetBytes(Main), .. key, .. (n % 3 == 0 ? new byte[n] : [])])))),
        (2, Gen.Int[0, 1000].Select(i => (Func<Context, string?>)(c => c.Tokens.Count == 0 ? null : c.Tokens[i % c.Tokens.Count][..(i % c.Tokens[i % c.Tokens.Count].Length)]))),
        (2, Gen.Int[0, 1000].Select(i => (Func<Context, string?>)(c => c.OtherTokens.Count == 0 ? null : c.OtherTokens[i % c.OtherTokens.Count]))),
        (1, Gen.Int[0, 1000].Select(i => (Func<Context, string?>)(c => c.Tokens.Count == 0 ? null : c.Tokens[i % c.Tokens.Count]))),
        (2, Gen.OneOf<string?>("", " ", "====", "not base64!", "AQ", "AQA", "AQZob3N0aWxl", "%%%", new string('A', 5000)).Select(s => (Func<Context, string?>)(_ => s))));

    private static readonly Gen<byte[]> Content = Gen.Frequency((4, Gen.Byte.Array[0, 200]), (1, Gen.Int[65_530, 65_540].Select(n => new byte[n])));

    /// <summary>A blob name to call with: mostly a name written before (so calls meet real blobs), or hostile noise.</summary>
    private static readonly Gen<Func<Context, string>> Name = Gen.Frequency(
        (3, Gen.Int[0, 1000].Select(i => (Func<Context, string>)(c => c.Names[i % c.Names.Count]))),
        (4, BlobName.Select(n => (Func<Context, string>)(_ => n))));

    private static readonly Gen<string> Container = Gen.Frequency((8, Gen.Const(Main)), (1, Gen.Const(Other)), (2, ContainerName));

    private static readonly Gen<Call> Calls = Gen.Frequency(
        (2, Gen.Select(ContainerName, Gen.Int[-1, 5], Gen.Int[-1, 5], (name, sc, rs) => new Call(
            $"CreateContainer({Show(name)}, class {sc}, replication {rs})",
            c => c.Store.CreateContainerAsync(name, new ContainerOptions { DefaultStorageClass = (StorageClass)sc, ReplicationStrategy = (ReplicationStrategy)rs })))),
        (1, ContainerName.Select(name => new Call($"GetContainer({Show(name)})", c => c.Store.GetContainerAsync(name)))),
        (1, Prefix.Select(prefix => new Call($"ListContainers({Show(prefix)})", async c => { await foreach (var _ in c.Store.ListContainersAsync(prefix)) { } }))),
        (1, Gen.Select(ContainerName, Gen.Bool, (name, all) => new Call($"DeleteContainer({Show(name)}, {all})", c => name is Main or Other ? Task.CompletedTask : c.Store.DeleteContainerAsync(name, all)))),
        (8, Gen.Select(Container, Name, Content, Gen.Select(RarelyText, Gen.Int[-1, 5], Tags, Metadata, Conditions, RarelyText, (t, s, tg, md, cd, h) => (t, s, tg, md, cd, h)), (container, name, content, o) => new Call(
            $"Upload({Show(container)}, name, {content.Length} bytes, type {Show(o.t)}, class {o.s}, tags {Show(o.tg)}, metadata {Show(o.md)}, hash {Show(o.h)})",
            async c =>
            {
                var n = name(c);
                c.Last = $"name {Show(n)}";
                var properties = await c.Store.UploadBytesAsync(container, n, content, new BlobUploadOptions
                {
                    ContentType = o.t,
                    StorageClass = o.s < 0 ? null : (StorageClass)o.s,
                    Tags = o.tg,
                    Metadata = o.md,
                    Conditions = o.cd(c),
                    ExpectedContentHash = o.h,
                });
                properties.Name.Should().Be(n);
                (await c.Store.GetPropertiesAsync(container, n)).ETag.Should().Be(properties.ETag);
                c.Written(container, n, properties.ETag);
            }))),
        (5, Gen.Select(Container, Name, Range, Conditions, (container, name, range, conditions) => new Call(
            "Download(range, conditions)",
            async c =>
            {
                var n = name(c);
                var r = range();
                c.Last = $"name {Show(n)}, range {(r is { } x ? $"{x.Offset}+{x.Length} suffix {x.IsSuffix}" : "none")}";
                await using var download = await c.Store.DownloadAsync(container, n, new BlobDownloadOptions { Range = r, Conditions = conditions(c) });
                var bytes = await Streams.ReadAllAsync(download.Content);
                bytes.Length.Should().Be((int)download.Length);
            }))),
        (2, Gen.Select(Container, Name, (container, name) => new Call("GetProperties", c => c.Store.GetPropertiesAsync(container, c.Named(name(c)))))),
        (2, Gen.Select(Container, Name, Conditions, (container, name, conditions) => new Call("Delete(conditions)", c => c.Store.DeleteAsync(container, c.Named(name(c)), conditions(c))))),
        (5, Gen.Select(Container, Prefix, Delimiter, Gen.Frequency((4, Gen.Int[1, 5]), (1, Gen.OneOf(0, -1, 5000, 5001, int.MaxValue))), Token, (container, prefix, delimiter, pageSize, token) => new Call(
            $"List({Show(container)}, prefix {Show(prefix)}, delimiter {Show(delimiter)}, page {pageSize})",
            async c =>
            {
                var t = token(c);
                c.Last = $"token {Show(t)}";
                var page = await c.Store.ListAsync(container, new BlobListOptions { Prefix = prefix, Delimiter = delimiter, PageSize = pageSize, ContinuationToken = t });
                page.Blobs.Where(b => prefix != null && !b.Name.StartsWith(prefix, StringComparison.Ordinal)).Should().BeEmpty("a prefix matches literally and case-sensitively");
                page.Blobs.Select(b => b.Name).Should().BeInAscendingOrder(BlobNames.Utf8Comparer);
                if (page.ContinuationToken is not null && container == Main) c.Tokens.Add(page.ContinuationToken);
            }))),
        (3, Gen.Select(Container, Name, Gen.Select(Tags, Metadata, Gen.Int[-1, 2], Conditions, Gen.Bool, (tg, md, mode, cd, nulls) => (tg, md, mode, cd, nulls)), (container, name, u) => new Call(
            $"UpdateMetadata(tags {Show(u.tg)}, metadata {Show(u.md)}, mode {u.mode})",
            c => c.Store.UpdateMetadataAsync(container, c.Named(name(c)), new BlobMetadataUpdate
            {
                Tags = u.tg?.ToDictionary(p => p.Key, p => u.nulls && p.Key.Length % 2 == 0 ? null : (string?)p.Value, StringComparer.Ordinal),
                Metadata = u.md?.ToDictionary(p => p.Key, p => u.nulls && p.Key.Length % 2 == 1 ? null : (string?)p.Value, StringComparer.Ordinal),
                Mode = (MetadataUpdateMode)u.mode,
                Conditions = u.cd(c),
            })))),
        (2, Gen.Select(Container, Name, Container, Name, Gen.Select(Conditions, Conditions, TextOrNull, Tags, (s, d, t, tg) => (s, d, t, tg)), (sc, sn, dc, dn, o) => new Call(
            $"Copy({Show(sc)} -> {Show(dc)}, type {Show(o.t)}, tags {Show(o.tg)})",
            async c =>
            {
                var destination = dn(c);
                var copy = await c.Store.CopyAsync(sc, c.Named(sn(c)), dc, destination, new BlobCopyOptions { SourceConditions = o.s(c), DestinationConditions = o.d(c), ContentType = o.t, Tags = o.tg });
                c.Written(dc, destination, copy.ETag);
            }))),
        (3, Gen.Select(Container, Name, PartNumber, PartNumber, Content, (container, name, p1, p2, content) => new Call(
            $"Multipart({Show(container)}, parts {p1} and {p2}, {content.Length} bytes)",
            async c =>
            {
                var id = await c.Store.StartMultipartUploadAsync(container, c.Named(name(c)));
                c.UploadIds.Add(id);
                var first = await c.Store.UploadPartAsync(id, p1, new MemoryStream(content));
                await c.Store.ListPartsAsync(id, new PartListOptions { PartNumberMarker = Math.Abs(p2 % 10_002), PageSize = Math.Abs(p1 % 1002) });
                var second = await c.Store.UploadPartAsync(id, p2, new MemoryStream(content));
                var done = await c.Store.CompleteMultipartUploadAsync(id, [new CompletedPart(first.PartNumber, first.ETag), new CompletedPart(second.PartNumber, p1 % 2 == 0 ? second.ETag : "\"bogus\"")]);
                c.Written(container, done.Name, done.ETag);
            }))),
        (2, Gen.Select(Gen.Frequency((2, Always<string?>(null)), (2, Gen.OneOf<string?>("", " ", "x", "\0", "\ud800", new string('u', 129), new string('u', 128)))), Gen.Int[0, 1000], PartNumber, Gen.Int[0, 4], (noise, i, part, which) => new Call(
            $"Upload id call {which} (noise {Show(noise)}, part {part})",
            async c =>
            {
                var id = noise ?? (c.UploadIds.Count == 0 ? "none" : c.UploadIds[i % c.UploadIds.Count]);
                switch (which)
                {
                    case 0: await c.Store.GetMultipartUploadAsync(id); break;
                    case 1: await c.Store.ListPartsAsync(id, new PartListOptions { PartNumberMarker = part, PageSize = Math.Abs(part % 2000) }); break;
                    case 2: await c.Store.AbortMultipartUploadAsync(id); break;
                    case 3: await c.Store.CompleteMultipartUploadAsync(id, [new CompletedPart(part, "\"x\""), new CompletedPart(part, "")]); break;
                    default: await c.Store.UploadPartAsync(id, part, new MemoryStream([1, 2, 3])); break;
                }
            }))),
        (1, Container.Select(container => new Call($"ListMultipartUploads({Show(container)})", async c => { await foreach (var _ in c.Store.ListMultipartUploadsAsync(container)) { } }))));

    [Test]
    public async Task Every_call_returns_or_throws_a_documented_exception_and_writes_only_its_own_files()
    {
        using var parent = new TempFolder("hostile");
        var root = Path.Combine(parent.Path, "store");
        var parentBefore = Listing(parent.Path);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        await using var store = await new BlobStoreBuilder(root)
            .Configure(o =>
            {
                o.ChunkSize = BlobStorageOptions.MinChunkSize;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                o.MultipartMinimumPartSize = 1;
                o.SynchronousMode = SynchronousMode.Normal;
            })
            .UseTimeProvider(time)
            .OpenAsync();
        var context = await Context.CreateAsync(store);
        var before = OwnFiles(root);

        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var seed = Environment.GetEnvironmentVariable("BLOBSTORAGE_HOSTILE_SEED");
        await Calls.SampleAsync(
            async call =>
            {
                context.Last = "";
                try
                {
                    await call.Run(context);
                    Count(outcomes, "ok");
                }
                catch (ArgumentException ex)
                {
                    Count(outcomes, ex.GetType().Name);
                }
                catch (BlobStorageException ex)
                {
                    Count(outcomes, ex.ErrorCode.ToString());
                }
                catch (Exception ex)
                {
                    throw new InvalidOperationException($"{call} ({context.Last}) threw {ex.GetType().Name}, neither an ArgumentException nor a BlobStorageException: {ex}", ex);
                }
            },
            seed: seed,
            iter: Iterations,
            threads: 1,
            writeLine: TestContext.Out.WriteLine,
            print: call => call.ToString());

        TestContext.Out.WriteLine($"Hostile calls: {string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"))}");

        var after = OwnFiles(root);
        after.Should().BeEquivalentTo(before, "outside chunks/ the store keeps only metadata.db and its journal files");
        Listing(parent.Path).Should().Equal(parentBefore.Append("store").Order(StringComparer.Ordinal), "nothing is written beside the root");
        var chunkRoot = Path.Combine(root, "chunks");
        foreach (var file in Directory.EnumerateFiles(chunkRoot, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(chunkRoot, f)))
        {
            var parts = file.Split(Path.DirectorySeparatorChar);
            var isChunk = parts.Length == 2 && parts[0].Length == 2 && ChunkId.TryParse(parts[1], out var id) && id.ToString()[..2] == parts[0];
            (isChunk || file is ".lock" or ".store-id").Should().BeTrue($"'{file}' is neither a chunk file, the lock nor the store marker");
        }

        time.Advance(TimeSpan.FromMinutes(16));
        await store.RunMaintenanceAsync();
        var report = await store.VerifyAsync(verifyContent: true);
        report.IsClean.Should().BeTrue($"missing {report.MissingChunks.Count}, unreferenced {report.UnreferencedChunks.Count}, mismatched {report.ReferenceCountMismatches.Count}");
    }

    [Test]
    public async Task Prefixes_match_literally_and_case_sensitively()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Main);
        foreach (var name in new[] { "a%b", "a_b", "aXb", "A%b", "ab", "a\u00e9", "a/%/x", "a/_/x" })
        {
            await t.Store.UploadBytesAsync(Main, name, [1]);
        }

        async Task<string[]> ListAsync(string prefix, string? delimiter = null)
        {
            var page = await t.Store.ListAsync(Main, new BlobListOptions { Prefix = prefix, Delimiter = delimiter });
            return [.. page.Blobs.Select(b => b.Name), .. page.CommonPrefixes.Select(p => "prefix:" + p)];
        }

        (await ListAsync("a%")).Should().Equal("a%b");
        (await ListAsync("a_")).Should().Equal("a_b");
        (await ListAsync("A")).Should().Equal("A%b");
        (await ListAsync("a\\")).Should().BeEmpty();
        (await ListAsync("%")).Should().BeEmpty();
        (await ListAsync("_")).Should().BeEmpty();
        (await ListAsync("a")).Should().Equal("a%b", "a/%/x", "a/_/x", "aXb", "a_b", "ab", "a\u00e9");
        (await ListAsync("a/", "%")).Should().Equal("a/_/x", "prefix:a/%");
        (await ListAsync("a/", "_")).Should().Equal("a/%/x", "prefix:a/_");
        (await ListAsync("a/%")).Should().Equal("a/%/x");
    }

    [Test]
    public async Task Continuation_tokens_that_were_not_issued_here_are_argument_errors()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Main);
        await t.Store.CreateContainerAsync(Other);
        for (var i = 0; i < 5; i++)
        {
            await t.Store.UploadBytesAsync(Main, $"n{i}", [1]);
            await t.Store.UploadBytesAsync(Other, $"n{i}", [1]);
        }

        var mine = (await t.Store.ListAsync(Main, new BlobListOptions { PageSize = 2 })).ContinuationToken!;
        var theirs = (await t.Store.ListAsync(Other, new BlobListOptions { PageSize = 2 })).ContinuationToken!;
        var forged = new List<string> { theirs, "not base64!", "", "AQ", mine[..^3], Base64Url.EncodeToString([2, 7, .. "hostile"u8]), Base64Url.EncodeToString([1, 200, .. "hostile"u8]) };
        foreach (var token in forged)
        {
            var list = () => t.Store.ListAsync(Main, new BlobListOptions { ContinuationToken = token });
            await list.Should().ThrowAsync<ArgumentException>($"token '{token}' was not issued for container '{Main}'");
        }

        (await t.Store.ListAsync(Main, new BlobListOptions { PageSize = 2, ContinuationToken = mine })).Blobs.Select(b => b.Name).Should().Equal("n2", "n3");
    }

    /// <summary>A setting that passes validation must not make the store fail later: the open or the maintenance pass.</summary>
    [TestCase("GarbageCollectionGracePeriod", TestName = "Options: GarbageCollectionGracePeriod = TimeSpan.MaxValue")]
    [TestCase("AbortIncompleteMultipartUploadsAfter", TestName = "Options: AbortIncompleteMultipartUploadsAfter = TimeSpan.MaxValue")]
    [TestCase("AccessFlushInterval", TestName = "Options: AccessFlushInterval = TimeSpan.MaxValue")]
    [TestCase("MaintenanceInterval", TestName = "Options: MaintenanceInterval = 100 days")]
    public async Task Accepted_options_do_not_fail_later(string setting)
    {
        using var folder = new TempFolder("hostile-options");
        IBlobStore store;
        try
        {
            store = await new BlobStoreBuilder(folder.Path)
                .Configure(o =>
                {
                    switch (setting)
                    {
                        case "GarbageCollectionGracePeriod": o.GarbageCollectionGracePeriod = TimeSpan.MaxValue; break;
                        case "AbortIncompleteMultipartUploadsAfter": o.AbortIncompleteMultipartUploadsAfter = TimeSpan.MaxValue; break;
                        case "AccessFlushInterval": o.AccessFlushInterval = TimeSpan.MaxValue; break;
                        default: o.MaintenanceInterval = TimeSpan.FromDays(100); break;
                    }
                })
                .OpenAsync();
        }
        catch (OptionsValidationException ex)
        {
            ex.Message.Should().Contain(setting, "a rejected setting names itself");
            return;
        }

        await using (store)
        {
            var maintain = () => store.RunMaintenanceAsync();
            await maintain.Should().NotThrowAsync($"{setting} was accepted when the store opened");
        }
    }

    // ---- support ----

    private static void Count(Dictionary<string, int> outcomes, string key) => outcomes[key] = outcomes.GetValueOrDefault(key) + 1;

    private static string[] Listing(string path) => [.. Directory.EnumerateFileSystemEntries(path).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal)];

    /// <summary>The files of the root outside chunks/, with the database's journal files folded into one name.</summary>
    private static string[] OwnFiles(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.StartsWith("chunks" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Select(f => f.StartsWith("metadata.db", StringComparison.Ordinal) ? "metadata.db*" : f)
            .Distinct()
            .Order(StringComparer.Ordinal)];

    internal static string Show(string? s)
    {
        if (s is null) return "null";
        var sb = new StringBuilder("\"");
        foreach (var ch in s.Length > 60 ? s[..60] : s)
        {
            if (ch is < ' ' or (>= '\u007f' and <= '\u009f') || char.IsSurrogate(ch) || ch > '\u2000') sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:x4}");
            else sb.Append(ch);
        }

        if (s.Length > 60) sb.Append(CultureInfo.InvariantCulture, $"…({s.Length} chars)");
        return sb.Append('"').ToString();
    }

    private static string Show(Dictionary<string, string>? d) =>
        d is null ? "null" : "{" + string.Join(", ", d.Select(p => $"{Show(p.Key)}: {Show(p.Value)}")) + "}";

    internal sealed record Call(string Description, Func<Context, Task> Run)
    {
        public override string ToString() => Description;
    }

    internal sealed class Context
    {
        private Context(IBlobStore store) => Store = store;

        public IBlobStore Store { get; }

        public List<string> Names { get; } = ["a%b", "a_b", "aXb", "A%b", "dir/x", "\u00e9t\u00e9", "\ud83d\ude00"];

        public List<string> ETags { get; } = [];

        public List<string> Tokens { get; } = [];

        public List<string> OtherTokens { get; } = [];

        public List<string> UploadIds { get; } = [];

        /// <summary>What the current call chose at run time, for the failure message.</summary>
        public string Last { get; set; } = "";

        public static async Task<Context> CreateAsync(IBlobStore store)
        {
            var context = new Context(store);
            await store.CreateContainerAsync(Main);
            await store.CreateContainerAsync(Other);
            foreach (var name in context.Names)
            {
                context.ETags.Add((await store.UploadBytesAsync(Main, name, Encoding.UTF8.GetBytes(name))).ETag);
                await store.UploadBytesAsync(Other, name, [1, 2]);
            }

            context.Tokens.Add((await store.ListAsync(Main, new BlobListOptions { PageSize = 2 })).ContinuationToken!);
            context.OtherTokens.Add((await store.ListAsync(Other, new BlobListOptions { PageSize = 2 })).ContinuationToken!);
            context.UploadIds.Add(await store.StartMultipartUploadAsync(Main, "pending"));
            return context;
        }

        public string Named(string name)
        {
            Last = $"name {Show(name)}";
            return name;
        }

        public void Written(string container, string name, string etag)
        {
            ETags.Add(etag);
            if (container == Main && Names.Count < 200 && !Names.Contains(name, StringComparer.Ordinal)) Names.Add(name);
        }
    }
}
