using System.IO.Pipelines;
using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Internal;
using BlobStorage.Tests.Facade;
using BlobStorage.Tests.Support;
using FluentAssertions.Execution;

namespace BlobStorage.Tests.Naming;

/// <summary>
/// The naming rules (docs/architecture.md, "Names") at every entry point. Each test walks a whole table of names on one
/// store inside an assertion scope, so a failure lists every name and call that broke a rule.
/// </summary>
[Parallelizable(ParallelScope.All)]
public class NameRulesTests
{
    // ---- containers ----

    private static readonly (string Label, string Name, string Rule)[] InvalidContainerNames =
    [
        ("empty", "", "*3 to 63 characters*"),
        ("2 characters", "ab", "*3 to 63 characters*"),
        ("64 characters", new string('a', 64), "*3 to 63 characters*"),
        ("uppercase", "Abc", "*lowercase letters*"),
        ("underscore", "a_b", "*lowercase letters*"),
        ("dot", "a.b", "*lowercase letters*"),
        ("space", "a b", "*lowercase letters*"),
        ("non-ASCII letter", "caf\u00E9", "*lowercase letters*"),
        ("path traversal", "../x", "*lowercase letters*"),
        ("leading hyphen", "-ab", "*start and end with a letter or digit*"),
        ("trailing hyphen", "ab-", "*start and end with a letter or digit*"),
        ("double hyphen", "a--b", "*two hyphens*"),
    ];

    private static readonly string[] ValidContainerNames = ["abc", new string('a', 63), "a-b-c", "123", "0a-9z", "a-1-b-2"];

    /// <summary>Every call that takes a container name, with the name in that position.</summary>
    private static IEnumerable<(string Call, Func<IBlobStore, Task> Run)> ContainerCalls(string container)
    {
        yield return ("CreateContainerAsync", s => s.CreateContainerAsync(container));
        yield return ("GetContainerAsync", s => s.GetContainerAsync(container));
        yield return ("DeleteContainerAsync", s => s.DeleteContainerAsync(container));
        yield return ("DeleteContainerAsync(deleteContents)", s => s.DeleteContainerAsync(container, deleteContents: true));
        yield return ("UploadAsync(Stream)", s => s.UploadBytesAsync(container, "blob", [1]));
        yield return ("UploadAsync(PipeReader)", s => s.UploadAsync(container, "blob", PipeReader.Create(new MemoryStream([1]))));
        yield return ("DownloadAsync", s => s.DownloadAsync(container, "blob"));
        yield return ("GetPropertiesAsync", s => s.GetPropertiesAsync(container, "blob"));
        yield return ("DeleteAsync", s => s.DeleteAsync(container, "blob"));
        yield return ("ListAsync", s => s.ListAsync(container));
        yield return ("ListAllAsync", s => s.AllNamesAsync(container));
        yield return ("UpdateMetadataAsync", s => s.UpdateMetadataAsync(container, "blob", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("a", "b")) }));
        yield return ("CopyAsync(source)", s => s.CopyAsync(container, "blob", "good", "copy"));
        yield return ("CopyAsync(destination)", s => s.CopyAsync("good", "blob", container, "copy"));
    }

    [Test]
    public async Task Invalid_container_names_throw_ArgumentException_naming_the_rule_from_every_call()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");
        await t.Store.UploadBytesAsync("good", "blob", [1]);
        var statsBefore = await t.Store.GetStatisticsAsync();

        using (new AssertionScope())
        {
            foreach (var (label, name, rule) in InvalidContainerNames)
            {
                foreach (var (call, run) in ContainerCalls(name))
                {
                    await FluentActions.Awaiting(() => run(t.Store)).Should()
                        .ThrowAsync<ArgumentException>("container name {0} ({1}) given to {2}", name, label, call)
                        .WithMessage(rule, "container name {0} ({1}) given to {2}", name, label, call);
                }
            }
        }

        (await t.Store.AllContainersAsync()).Select(c => c.Name).Should().Equal("good");
        (await t.Store.AllNamesAsync("good")).Should().Equal("blob");
        (await t.Store.GetStatisticsAsync()).Should().BeEquivalentTo(statsBefore);
        FilesOutsideTheStoreLayout(t).Should().BeEmpty();
    }

    [Test]
    public async Task Valid_container_names_are_accepted()
    {
        await using var t = await TestStore.OpenAsync();

        using (new AssertionScope())
        {
            foreach (var name in ValidContainerNames)
            {
                (await t.Store.CreateContainerAsync(name)).Name.Should().Be(name);
                await t.Store.UploadBytesAsync(name, "blob", [1, 2]);
                (await t.Store.GetContainerAsync(name)).Name.Should().Be(name);
                (await t.Store.DownloadBytesAsync(name, "blob")).Should().Equal([1, 2], "container {0}", name);
            }
        }

        (await t.Store.AllContainersAsync()).Select(c => c.Name).Should().Equal(ValidContainerNames.Order(StringComparer.Ordinal));
    }

    [Test]
    public async Task Null_names_throw_ArgumentNullException()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");

        await FluentActions.Awaiting(() => t.Store.CreateContainerAsync(null!)).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync(null!, "blob")).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("good", null!)).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("good", null!, [1])).Should().ThrowAsync<ArgumentNullException>();
    }

    // ---- blobs ----

    private static readonly (string Label, string Name, string Rule)[] InvalidBlobNames =
    [
        ("empty", "", "*must not be empty*"),
        ("1025 ASCII bytes", new string('a', 1025), "*1025 bytes*at most 1024*"),
        ("513 two-byte characters", string.Concat(Enumerable.Repeat("\u00E9", 513)), "*1026 bytes*at most 1024*"),
        ("341 three-byte characters and 2 bytes", string.Concat(Enumerable.Repeat("\u20AC", 341)) + "ab", "*1025 bytes*at most 1024*"),
        ("256 four-byte characters and 1 byte", string.Concat(Enumerable.Repeat("\U0001F600", 256)) + "a", "*1025 bytes*at most 1024*"),
        ("NUL", "a\0b", "*control character U+0000*"),
        ("newline", "a\nb", "*control character U+000A*"),
        ("tab", "a\tb", "*control character U+0009*"),
        ("DEL", "a\u007Fb", "*control character U+007F*"),
        ("NEL", "a\u0085b", "*control character U+0085*"),
        ("C1 control", "a\u009Fb", "*control character U+009F*"),
        ("lone high surrogate", "a\uD800b", "*lone high surrogate*"),
        ("lone high surrogate at the end", "a\uD800", "*lone high surrogate*"),
        ("lone low surrogate", "a\uDC00b", "*lone low surrogate*"),
        ("surrogates in the wrong order", "\uDE00\uD83D", "*lone low surrogate*"),
        ("backslash", "a\\b", "*backslash*"),
        ("backslash traversal", "..\\x", "*backslash*"),
        ("leading slash", "/a", "*must not start with '/'*"),
        ("only a slash", "/", "*must not start with '/'*"),
        ("empty segment", "a//b", "*empty segment*"),
        ("dot segment", "a/./b", "*'.' and '..' segments*"),
        ("dot-dot segment", "a/../b", "*'.' and '..' segments*"),
        ("leading dot segment", "./a", "*'.' and '..' segments*"),
        ("leading dot-dot segment", "../a", "*'.' and '..' segments*"),
        ("only dot-dot", "..", "*must not end with '.'*"),
        ("only a dot", ".", "*must not end with '.'*"),
        ("trailing dot-dot segment", "a/..", "*must not end with '.'*"),
        ("trailing dot", "a.", "*must not end with '.'*"),
        ("trailing dot in the last segment", "a/b.", "*must not end with '.'*"),
        ("trailing slash", "a/", "*must not end with '/'*"),
    ];

    private static readonly (string Label, string Name)[] ValidOddNames =
    [
        ("reserved Windows device name", "CON"),
        ("reserved device name with an extension", "NUL.txt"),
        ("space", "a b"),
        ("leading and trailing spaces", " lead and trail "),
        ("nested segments", "x/y/z"),
        ("full-width solidus", "a\uFF0Fb"),
        ("one-dot leader", "a\u2024b"),
        ("division slash", "a\u2215b"),
        ("leading dots in a segment", "...a"),
        ("dot file", ".hidden"),
        ("dot-led segment", "a/.b/c"),
        ("three dots then a letter", "a/...b"),
        ("two dots inside", "a..b"),
        ("percent-encoded traversal", "a%2F..%2Fb"),
        ("URL punctuation", "?#&=+;:@$!*'()[],"),
        ("emoji and CJK", "\U0001F600/\u4E2D\u6587"),
        ("noncharacters", "\uFFFF\uFFFE"),
        ("line separator (not a control character)", "a\u2028b"),
        ("1024 ASCII bytes", new string('a', 1024)),
        ("512 two-byte characters", string.Concat(Enumerable.Repeat("\u00E9", 512))),
        ("341 three-byte characters and 1 byte", string.Concat(Enumerable.Repeat("\u20AC", 341)) + "a"),
        ("256 four-byte characters", string.Concat(Enumerable.Repeat("\U0001F600", 256))),
        ("many segments", string.Concat(Enumerable.Repeat("s/", 511)) + "bc"),
    ];

    /// <summary>Every call that takes a blob name, with the name in that position.</summary>
    private static IEnumerable<(string Call, Func<IBlobStore, Task> Run)> BlobCalls(string name)
    {
        yield return ("UploadAsync(Stream)", s => s.UploadBytesAsync("good", name, [1]));
        yield return ("UploadAsync(PipeReader)", s => s.UploadAsync("good", name, PipeReader.Create(new MemoryStream([1]))));
        yield return ("DownloadAsync", s => s.DownloadAsync("good", name));
        yield return ("GetPropertiesAsync", s => s.GetPropertiesAsync("good", name));
        yield return ("DeleteAsync", s => s.DeleteAsync("good", name));
        yield return ("UpdateMetadataAsync", s => s.UpdateMetadataAsync("good", name, new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("a", "b")) }));
        yield return ("CopyAsync(source)", s => s.CopyAsync("good", name, "good", "copy"));
        yield return ("CopyAsync(destination)", s => s.CopyAsync("good", "blob", "good", name));
    }

    [Test]
    public async Task Invalid_blob_names_throw_ArgumentException_naming_the_rule_from_every_call()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");
        await t.Store.UploadBytesAsync("good", "blob", [1]);
        var statsBefore = await t.Store.GetStatisticsAsync();

        using (new AssertionScope())
        {
            foreach (var (label, name, rule) in InvalidBlobNames)
            {
                foreach (var (call, run) in BlobCalls(name))
                {
                    await FluentActions.Awaiting(() => run(t.Store)).Should()
                        .ThrowAsync<ArgumentException>("blob name ({0}) given to {1}", label, call)
                        .WithMessage(rule, "blob name ({0}) given to {1}", label, call);
                }
            }
        }

        (await t.Store.AllNamesAsync("good")).Should().Equal("blob");
        (await t.Store.GetStatisticsAsync()).Should().BeEquivalentTo(statsBefore);
        FilesOutsideTheStoreLayout(t).Should().BeEmpty();
    }

    [Test]
    public async Task Error_messages_stay_printable_whatever_the_name_holds()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");

        var thrown = await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("good", "a\0\n\uD800" + new string('x', 500), [1])).Should().ThrowAsync<ArgumentException>();

        thrown.Which.Message.Should().NotContain("\0").And.NotContain("\n").And.NotContain("\uD800");
        thrown.Which.Message.Length.Should().BeLessThan(400, "a long name is shortened in the message");
        thrown.Which.ParamName.Should().Be("name");
    }

    [Test]
    public async Task Valid_odd_names_round_trip_and_list_under_their_exact_name()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");
        await t.Store.CreateContainerAsync("copies");

        using (new AssertionScope())
        {
            foreach (var (label, name) in ValidOddNames)
            {
                var content = Encoding.UTF8.GetBytes(name);
                (await t.Store.UploadBytesAsync("good", name, content)).Name.Should().Be(name, label);
                (await t.Store.GetPropertiesAsync("good", name)).Name.Should().Be(name, label);
                (await t.Store.DownloadBytesAsync("good", name)).Should().Equal(content, label);
                (await t.Store.AllNamesAsync("good", name)).FirstOrDefault().Should().Be(name, "{0} lists under its own name as a prefix", label);
                (await t.Store.CopyAsync("good", name, "copies", name)).Name.Should().Be(name, label);
                (await t.Store.UpdateMetadataAsync("good", name, new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("k", "v")) })).Tags.Should().ContainKey("k", label);
            }
        }

        var expected = ValidOddNames.Select(n => n.Name).Order(BlobNames.Utf8Comparer).ToList();
        (await t.Store.AllNamesAsync("good")).Should().Equal(expected);
        (await t.Store.AllNamesAsync("copies")).Should().Equal(expected);
        foreach (var (_, name) in ValidOddNames) await t.Store.DeleteAsync("good", name);
        (await t.Store.AllNamesAsync("good")).Should().BeEmpty();
        (await t.Store.DownloadBytesAsync("copies", "CON")).Should().Equal(Encoding.UTF8.GetBytes("CON"));
        FilesOutsideTheStoreLayout(t).Should().BeEmpty("no name becomes a path");
    }

    [Test]
    public async Task NFC_and_NFD_spellings_are_two_different_blobs()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");
        const string nfc = "caf\u00E9";
        const string nfd = "cafe\u0301";
        nfc.Normalize(NormalizationForm.FormD).Should().Be(nfd, "the two spellings are canonically equivalent");

        await t.Store.UploadBytesAsync("good", nfc, [1]);
        await t.Store.UploadBytesAsync("good", nfd, [2, 2]);

        (await t.Store.DownloadBytesAsync("good", nfc)).Should().Equal(1);
        (await t.Store.DownloadBytesAsync("good", nfd)).Should().Equal(2, 2);
        (await t.Store.GetPropertiesAsync("good", nfc)).Name.Should().Be(nfc);
        (await t.Store.GetPropertiesAsync("good", nfd)).Name.Should().Be(nfd);
        (await t.Store.AllNamesAsync("good")).Should().Equal(nfd, nfc);
        (await t.Store.GetStatisticsAsync()).TotalBlobs.Should().Be(2);

        await t.Store.DeleteAsync("good", nfc);
        (await t.Store.AllNamesAsync("good")).Should().Equal(nfd);
        (await t.Store.DownloadBytesAsync("good", nfd)).Should().Equal(2, 2);
    }

    [Test]
    public async Task Names_differing_only_in_case_are_different_blobs()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");
        await t.Store.UploadBytesAsync("good", "Readme", [1]);
        await t.Store.UploadBytesAsync("good", "README", [2]);
        await t.Store.UploadBytesAsync("good", "readme", [3]);

        (await t.Store.AllNamesAsync("good")).Should().Equal("README", "Readme", "readme");
        (await t.Store.DownloadBytesAsync("good", "README")).Should().Equal(2);
        (await t.Store.DownloadBytesAsync("good", "readme")).Should().Equal(3);
    }

    [Test]
    public async Task After_every_kind_of_failure_the_folder_holds_only_the_store_layout()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("good");
        await t.Store.UploadBytesAsync("good", "blob", Streams.Bytes(100));
        var before = t.Folder.Files();

        foreach (var (_, name, _) in InvalidBlobNames)
        {
            foreach (var (_, run) in BlobCalls(name)) await FluentActions.Awaiting(() => run(t.Store)).Should().ThrowAsync<ArgumentException>();
        }

        foreach (var (_, name, _) in InvalidContainerNames)
        {
            foreach (var (_, run) in ContainerCalls(name)) await FluentActions.Awaiting(() => run(t.Store)).Should().ThrowAsync<ArgumentException>();
        }

        FilesOutsideTheStoreLayout(t).Should().BeEmpty();
        t.Folder.Files().Should().BeEquivalentTo(before, "no failed call left a file behind");
        Directory.EnumerateDirectories(t.RootPath).Select(Path.GetFileName).Should().Equal("chunks");
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    private static List<string> FilesOutsideTheStoreLayout(TestStore t) =>
        [.. t.Folder.Files().Where(f => !f.StartsWith("metadata.db", StringComparison.Ordinal) && f != "space.reserve" && !f.StartsWith("chunks" + Path.DirectorySeparatorChar, StringComparison.Ordinal))];
}
