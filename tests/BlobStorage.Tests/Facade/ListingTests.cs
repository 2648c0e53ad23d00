using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Tests.Support;
using FluentAssertions.Execution;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class ListingTests
{
    private static async Task SeedAsync(IBlobStore store, string container, IEnumerable<string> names)
    {
        foreach (var name in names) await store.UploadBytesAsync(container, name, [1]);
    }

    /// <summary>Every page of a listing, following continuation tokens, as (blobs, prefixes) per page.</summary>
    private static async Task<List<BlobListPage>> AllPagesAsync(IBlobStore store, string container, BlobListOptions options)
    {
        var pages = new List<BlobListPage>();
        string? token = null;
        do
        {
            var page = await store.ListAsync(container, new BlobListOptions { Prefix = options.Prefix, Delimiter = options.Delimiter, PageSize = options.PageSize, ContinuationToken = token });
            pages.Add(page);
            (page.Blobs.Count + page.CommonPrefixes.Count).Should().BeLessThanOrEqualTo(options.PageSize);
            token = page.ContinuationToken;
            pages.Count.Should().BeLessThan(10_000, "a listing must end");
        }
        while (token is not null);
        return pages;
    }

    [Test]
    public async Task Prefix_selects_names_that_start_with_it()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await SeedAsync(t.Store, "data", ["photos/2025/a.jpg", "photos/2026/b.jpg", "photo", "photos", "videos/c.mp4", "p"]);

        var page = await t.Store.ListAsync("data", new BlobListOptions { Prefix = "photos" });
        page.Blobs.Select(b => b.Name).Should().Equal("photos", "photos/2025/a.jpg", "photos/2026/b.jpg");
        page.CommonPrefixes.Should().BeEmpty();
        page.ContinuationToken.Should().BeNull();

        (await t.Store.ListAsync("data", new BlobListOptions { Prefix = "photos/" })).Blobs.Select(b => b.Name).Should().Equal("photos/2025/a.jpg", "photos/2026/b.jpg");
        (await t.Store.ListAsync("data", new BlobListOptions { Prefix = "zzz" })).Blobs.Should().BeEmpty();
        (await t.Store.ListAsync("data", new BlobListOptions { Prefix = "" })).Blobs.Should().HaveCount(6);
        (await t.Store.AllNamesAsync("data", "photo")).Should().Equal("photo", "photos", "photos/2025/a.jpg", "photos/2026/b.jpg");
    }

    [Test]
    public async Task Listed_properties_match_GetProperties()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", Streams.Bytes(TestStore.ChunkSize + 1), new BlobUploadOptions { ContentType = "x/y", Tags = FacadeTestKit.Map(("k", "v")), Metadata = FacadeTestKit.Map(("m", "n")) });

        var listed = (await t.Store.ListAsync("data", new BlobListOptions { Include = BlobListTraits.All })).Blobs.Should().ContainSingle().Subject;
        listed.Should().BeEquivalentTo(await t.Store.GetPropertiesAsync("data", "a"));
    }

    [Test]
    public async Task A_default_listing_leaves_tags_and_metadata_empty()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", [1, 2, 3], new BlobUploadOptions { ContentType = "x/y", Tags = FacadeTestKit.Map(("k", "v")), Metadata = FacadeTestKit.Map(("m", "n")) });
        var stored = await t.Store.GetPropertiesAsync("data", "a");

        var listed = (await t.Store.ListAsync("data")).Blobs.Should().ContainSingle().Subject;
        listed.Tags.Should().BeEmpty();
        listed.Metadata.Should().BeEmpty();
        listed.Should().BeEquivalentTo(stored, o => o.Excluding(p => p.Tags).Excluding(p => p.Metadata), "the system properties are all listed");
        (await t.Store.ListAllAsync("data").SingleAsync()).Tags.Should().BeEmpty("ListAllAsync lists without traits");
    }

    [TestCase(BlobListTraits.Tags, true, false)]
    [TestCase(BlobListTraits.Metadata, false, true)]
    [TestCase(BlobListTraits.All, true, true)]
    public async Task Listing_traits_bring_tags_or_metadata(BlobListTraits include, bool tags, bool metadata)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "a", [1], new BlobUploadOptions { Tags = FacadeTestKit.Map(("k", "v")), Metadata = FacadeTestKit.Map(("m", "n")) });
        await t.Store.UploadBytesAsync("data", "b", [2]);

        var page = await t.Store.ListAsync("data", new BlobListOptions { Include = include });
        page.Blobs.Select(b => b.Name).Should().Equal("a", "b");
        page.Blobs[0].Tags.Should().BeEquivalentTo(tags ? FacadeTestKit.Map(("k", "v")) : FacadeTestKit.Map());
        page.Blobs[0].Metadata.Should().BeEquivalentTo(metadata ? FacadeTestKit.Map(("m", "n")) : FacadeTestKit.Map());
        page.Blobs[1].Tags.Should().BeEmpty();
        page.Blobs[1].Metadata.Should().BeEmpty();
    }

    [Test]
    public async Task Listing_traits_leave_paging_and_grouping_alone()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        string[] names = ["a/1", "a/2", "b", "c/x/1", "d", "e", "f/1"];
        foreach (var name in names) await t.Store.UploadBytesAsync("data", name, [1], new BlobUploadOptions { Tags = FacadeTestKit.Map(("n", name)) });

        foreach (var delimiter in new[] { null, "/" })
        {
            for (var pageSize = 1; pageSize <= 4; pageSize++)
            {
                var plain = await PagesAsync(BlobListTraits.None);
                var rich = await PagesAsync(BlobListTraits.All);
                rich.Should().Equal(plain, $"delimiter '{delimiter}', pages of {pageSize}");

                async Task<List<string>> PagesAsync(BlobListTraits include)
                {
                    var entries = new List<string>();
                    string? token = null;
                    do
                    {
                        var page = await t.Store.ListAsync("data", new BlobListOptions { Delimiter = delimiter, PageSize = pageSize, ContinuationToken = token, Include = include });
                        foreach (var blob in page.Blobs)
                        {
                            blob.Tags.Should().BeEquivalentTo(include == BlobListTraits.None ? FacadeTestKit.Map() : FacadeTestKit.Map(("n", blob.Name)));
                        }

                        entries.Add(string.Join(",", page.Blobs.Select(b => b.Name).Concat(page.CommonPrefixes.Select(p => "P:" + p))));
                        token = page.ContinuationToken;
                    }
                    while (token is not null);
                    return entries;
                }
            }
        }
    }

    [TestCase(4)]
    [TestCase(-1)]
    [TestCase(int.MinValue)]
    public async Task Undefined_listing_traits_are_refused(int include)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        (await FluentActions.Awaiting(() => t.Store.ListAsync("data", new BlobListOptions { Include = (BlobListTraits)include }))
            .Should().ThrowAsync<ArgumentOutOfRangeException>()).Which.ParamName.Should().Be("options.Include");
    }

    [Test]
    public async Task Delimiter_groups_names_into_common_prefixes_at_each_level()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await SeedAsync(t.Store, "data", ["a/b/c.txt", "a/b/d.txt", "a/b/e/f.txt", "a/e.txt", "f.txt", "g/h.txt", "g/i/j.txt", "z"]);

        var top = await t.Store.ListAsync("data", new BlobListOptions { Delimiter = "/" });
        top.Blobs.Select(b => b.Name).Should().Equal("f.txt", "z");
        top.CommonPrefixes.Should().Equal("a/", "g/");
        top.ContinuationToken.Should().BeNull();

        var a = await t.Store.ListAsync("data", new BlobListOptions { Prefix = "a/", Delimiter = "/" });
        a.Blobs.Select(b => b.Name).Should().Equal("a/e.txt");
        a.CommonPrefixes.Should().Equal("a/b/");

        var ab = await t.Store.ListAsync("data", new BlobListOptions { Prefix = "a/b/", Delimiter = "/" });
        ab.Blobs.Select(b => b.Name).Should().Equal("a/b/c.txt", "a/b/d.txt");
        ab.CommonPrefixes.Should().Equal("a/b/e/");

        var partial = await t.Store.ListAsync("data", new BlobListOptions { Prefix = "g", Delimiter = "/" });
        partial.Blobs.Should().BeEmpty();
        partial.CommonPrefixes.Should().Equal("g/");
    }

    [Test]
    public async Task Delimiter_other_than_a_slash()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await SeedAsync(t.Store, "data", ["2026-01-01", "2026-01-02", "2026-02-01", "2027", "x::y", "x::z"]);

        var page = await t.Store.ListAsync("data", new BlobListOptions { Delimiter = "-" });
        page.Blobs.Select(b => b.Name).Should().Equal("2027", "x::y", "x::z");
        page.CommonPrefixes.Should().Equal("2026-");

        var multi = await t.Store.ListAsync("data", new BlobListOptions { Delimiter = "::" });
        multi.CommonPrefixes.Should().Equal("x::");
    }

    [Test]
    public async Task Delimiter_listing_pages_through_blobs_and_prefixes_without_repeats()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var names = new List<string>();
        for (var d = 0; d < 5; d++)
        {
            for (var f = 0; f < 4; f++) names.Add($"dir{d}/file{f}");
            names.Add($"file{d}");
        }

        await SeedAsync(t.Store, "data", names);
        var expected = new[] { "dir0/", "dir1/", "dir2/", "dir3/", "dir4/", "file0", "file1", "file2", "file3", "file4" };

        foreach (var pageSize in new[] { 1, 2, 3, 7, 10, 11 })
        {
            var pages = await AllPagesAsync(t.Store, "data", new BlobListOptions { Delimiter = "/", PageSize = pageSize });
            var items = pages.SelectMany(p => p.CommonPrefixes.Concat(p.Blobs.Select(b => b.Name))).ToList();
            items.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering(), $"page size {pageSize}");
        }
    }

    [TestCase(1)]
    [TestCase(5000)]
    public async Task Page_size_from_1_to_5000_is_accepted(int pageSize)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await SeedAsync(t.Store, "data", ["a", "b"]);

        var page = await t.Store.ListAsync("data", new BlobListOptions { PageSize = pageSize });
        page.Blobs.Should().HaveCount(Math.Min(pageSize, 2));
        (page.ContinuationToken is null).Should().Be(pageSize >= 2);
    }

    [Test]
    public async Task Page_size_outside_1_to_5000_throws_ArgumentOutOfRange()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        using var scope = new AssertionScope();
        foreach (var pageSize in new[] { 0, -1, 5001, int.MaxValue, int.MinValue })
        {
            await FluentActions.Awaiting(() => t.Store.ListAsync("data", new BlobListOptions { PageSize = pageSize }))
                .Should().ThrowAsync<ArgumentOutOfRangeException>("page size {0}", pageSize).WithMessage("*5000*");
        }
    }

    [Test]
    public async Task Continuation_tokens_collect_every_name_once_in_UTF8_byte_order()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        string[] names =
        [
            "a", "B", "\u00E9", "\uFFFD", "\U0001F600", "\uE000", "Z", "z", "a/b", "a b", "a-b", "\u00E9t\u00E9",
            "e\u0301", "\u4E2D\u6587", "\U0001F600/x", "0", "~", "\u007E\u00A0", "a\uFF0Fb", "\uFFFF",
        ];
        await SeedAsync(t.Store, "data", names);
        var expected = names.Order(BlobNames.Utf8Comparer).ToList();
        expected.Should().NotEqual(names.Order(StringComparer.Ordinal), "this set orders differently in UTF-16 and UTF-8");

        foreach (var pageSize in new[] { 1, 2, 3, 19, 20, 21, 1000 })
        {
            var pages = await AllPagesAsync(t.Store, "data", new BlobListOptions { PageSize = pageSize });
            pages.SelectMany(p => p.Blobs.Select(b => b.Name)).Should().Equal(expected, $"page size {pageSize}");
            pages[^1].ContinuationToken.Should().BeNull();
        }

        (await t.Store.AllNamesAsync("data")).Should().Equal(expected);
    }

    [Test]
    public async Task Prefix_listing_across_pages_stays_inside_the_prefix()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var inside = Enumerable.Range(0, 12).Select(i => $"in/{i:D2}").ToList();
        await SeedAsync(t.Store, "data", [.. inside, "im", "in", "in0", "io/1", "a"]);

        var pages = await AllPagesAsync(t.Store, "data", new BlobListOptions { Prefix = "in/", PageSize = 5 });

        pages.Should().HaveCount(3);
        pages.SelectMany(p => p.Blobs.Select(b => b.Name)).Should().Equal(inside);
    }

    [Test]
    public async Task A_token_stays_valid_while_blobs_are_added_and_removed()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var initial = Enumerable.Range(0, 20).Select(i => $"n{i:D2}").ToList();
        await SeedAsync(t.Store, "data", initial);

        var first = await t.Store.ListAsync("data", new BlobListOptions { PageSize = 5 });
        first.Blobs.Select(b => b.Name).Should().Equal("n00", "n01", "n02", "n03", "n04");
        first.ContinuationToken.Should().NotBeNull();

        // Before the token: one removed, one added. At and after it: the very next name removed, others added and removed.
        await t.Store.DeleteAsync("data", "n02");
        await t.Store.UploadBytesAsync("data", "n015", [1]);
        await t.Store.DeleteAsync("data", "n05");
        await t.Store.DeleteAsync("data", "n10");
        await t.Store.UploadBytesAsync("data", "n105", [1]);
        await t.Store.UploadBytesAsync("data", "n99", [1]);
        await t.Store.UploadBytesAsync("data", "n04a", [1]);

        var rest = new List<string>();
        var token = first.ContinuationToken;
        while (token is not null)
        {
            var page = await t.Store.ListAsync("data", new BlobListOptions { PageSize = 5, ContinuationToken = token });
            rest.AddRange(page.Blobs.Select(b => b.Name));
            token = page.ContinuationToken;

            // Changes between later pages too.
            if (rest.Count == 5)
            {
                await t.Store.DeleteAsync("data", "n18");
                await t.Store.UploadBytesAsync("data", "n06a", [1]);
            }
        }

        var survivors = initial.Skip(5).Except(["n05", "n10", "n18"]).ToList();
        rest.Should().OnlyHaveUniqueItems();
        rest.Should().BeInAscendingOrder(BlobNames.Utf8Comparer);
        rest.Should().Contain(survivors, "names that existed throughout are never skipped");
        rest.Should().NotContain(first.Blobs.Select(b => b.Name), "names of earlier pages are never repeated");
        rest.Should().NotContain(["n05", "n10", "n015", "n02"]);
        rest.Should().Contain(["n04a", "n105", "n99"], "a key token sees names added after it");
    }

    [Test]
    public async Task A_token_from_another_container_throws_ArgumentException()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("one");
        await t.Store.CreateContainerAsync("two");
        await SeedAsync(t.Store, "one", ["a", "b", "c"]);
        await SeedAsync(t.Store, "two", ["a", "b", "c"]);
        var token = (await t.Store.ListAsync("one", new BlobListOptions { PageSize = 1 })).ContinuationToken;

        await FluentActions.Awaiting(() => t.Store.ListAsync("two", new BlobListOptions { ContinuationToken = token }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*another container*");
        (await t.Store.ListAsync("one", new BlobListOptions { ContinuationToken = token })).Blobs.Select(b => b.Name).Should().Equal("b", "c");
    }

    [Test]
    public async Task A_garbage_token_throws_ArgumentException()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await SeedAsync(t.Store, "data", ["a", "b"]);
        string[] garbage = ["", "garbage!", "AAAA", "AQNvbmVh", "not a token at all", "////", "AQ", new string('A', 3000)];

        using var scope = new AssertionScope();
        foreach (var token in garbage)
        {
            await FluentActions.Awaiting(() => t.Store.ListAsync("data", new BlobListOptions { ContinuationToken = token }))
                .Should().ThrowAsync<ArgumentException>("token '{0}'", token).WithMessage("*continuation token*");
        }
    }

    [Test]
    public async Task Prefix_with_SQL_wildcards_and_case_matches_literally()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await SeedAsync(t.Store, "data", ["100%/a", "100x/a", "1000", "a_b", "axb", "aXb", "Abc", "abc", "ABC", "a%b", "a[b]"]);

        (await t.Store.AllNamesAsync("data", "100%")).Should().Equal("100%/a");
        (await t.Store.AllNamesAsync("data", "a_")).Should().Equal("a_b");
        (await t.Store.AllNamesAsync("data", "a%")).Should().Equal("a%b");
        (await t.Store.AllNamesAsync("data", "a[")).Should().Equal("a[b]");
        (await t.Store.AllNamesAsync("data", "A")).Should().Equal("ABC", "Abc");
        (await t.Store.AllNamesAsync("data", "AB")).Should().Equal("ABC");
        (await t.Store.AllNamesAsync("data", "a")).Should().Equal("a%b", "aXb", "a[b]", "a_b", "abc", "axb");
        (await t.Store.AllNamesAsync("data", "%")).Should().BeEmpty();
        (await t.Store.AllNamesAsync("data", "_")).Should().BeEmpty();
    }

    [Test]
    public async Task Prefix_and_delimiter_must_be_valid_text()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        await FluentActions.Awaiting(() => t.Store.ListAsync("data", new BlobListOptions { Prefix = "a\uD800" }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*surrogate*");
        await FluentActions.Awaiting(() => t.Store.ListAsync("data", new BlobListOptions { Delimiter = "" }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*delimiter*");
    }

    [Test]
    public async Task Listing_a_missing_container_throws_ContainerNotFound()
    {
        await using var t = await TestStore.OpenAsync();

        await FluentActions.Awaiting(() => t.Store.ListAsync("missing")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.AllNamesAsync("missing")).Should().ThrowAsync<ContainerNotFoundException>();
    }

    [Test]
    public async Task An_empty_container_lists_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        var page = await t.Store.ListAsync("data");
        page.Blobs.Should().BeEmpty();
        page.CommonPrefixes.Should().BeEmpty();
        page.ContinuationToken.Should().BeNull();
    }

    [Test]
    public async Task ListAll_yields_everything_across_pages_of_a_thousand()
    {
        await using var t = await TestStore.OpenAsync(o => o.SynchronousMode = SynchronousMode.Normal);
        await t.Store.CreateContainerAsync("data");
        var names = Enumerable.Range(0, 1234).Select(i => $"item/{i:D5}").ToList();
        await SeedAsync(t.Store, "data", names);
        await t.Store.UploadBytesAsync("data", "other", [1]);

        (await t.Store.AllNamesAsync("data", "item/")).Should().Equal(names);
        var all = await t.Store.AllNamesAsync("data");
        all.Should().HaveCount(1235).And.OnlyHaveUniqueItems();
        all[^1].Should().Be("other");

        var firstPage = await t.Store.ListAsync("data");
        firstPage.Blobs.Should().HaveCount(1000, "the default page size is 1000");
        firstPage.ContinuationToken.Should().NotBeNull();
    }
}
