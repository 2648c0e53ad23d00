using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions.Execution;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class MetadataTests
{
    private static async Task<BlobProperties> SeedAsync(TestStore t)
    {
        await t.Store.CreateContainerAsync("data");
        return await t.Store.UploadBytesAsync("data", "blob", [1, 2, 3], new BlobUploadOptions
        {
            Tags = FacadeTestKit.Map(("a", "1"), ("b", "2")),
            Metadata = FacadeTestKit.Map(("x", "1"), ("y", "2")),
        });
    }

    [Test]
    public async Task Merge_sets_overwrites_and_removes_with_null()
    {
        await using var t = await TestStore.OpenAsync();
        await SeedAsync(t);

        var updated = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate
        {
            Tags = FacadeTestKit.Change(("a", null), ("b", "3"), ("c", "4")),
            Metadata = FacadeTestKit.Change(("x", "10"), ("y", null), ("z", "30")),
        });

        updated.Tags.Should().BeEquivalentTo(FacadeTestKit.Map(("b", "3"), ("c", "4")));
        updated.Metadata.Should().BeEquivalentTo(FacadeTestKit.Map(("x", "10"), ("z", "30")));
        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(updated);
    }

    [Test]
    public async Task Merge_of_a_missing_key_with_null_is_a_no_op_for_that_key()
    {
        await using var t = await TestStore.OpenAsync();
        await SeedAsync(t);

        var updated = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("never", null)) });

        updated.Tags.Should().BeEquivalentTo(FacadeTestKit.Map(("a", "1"), ("b", "2")));
    }

    [Test]
    public async Task Replace_drops_everything_not_given()
    {
        await using var t = await TestStore.OpenAsync();
        await SeedAsync(t);

        var updated = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate
        {
            Mode = MetadataUpdateMode.Replace,
            Tags = FacadeTestKit.Change(("only", "tag")),
            Metadata = FacadeTestKit.Change(),
        });

        updated.Tags.Should().BeEquivalentTo(FacadeTestKit.Map(("only", "tag")));
        updated.Metadata.Should().BeEmpty();
        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(updated);
    }

    [Test]
    public async Task Updating_only_tags_leaves_metadata_alone_and_the_reverse()
    {
        await using var t = await TestStore.OpenAsync();
        await SeedAsync(t);

        var tagsOnly = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Mode = MetadataUpdateMode.Replace, Tags = FacadeTestKit.Change(("t", "1")) });
        tagsOnly.Metadata.Should().BeEquivalentTo(FacadeTestKit.Map(("x", "1"), ("y", "2")));

        var metadataOnly = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Mode = MetadataUpdateMode.Replace, Metadata = FacadeTestKit.Change(("m", "1")) });
        metadataOnly.Tags.Should().BeEquivalentTo(FacadeTestKit.Map(("t", "1")));
        metadataOnly.Metadata.Should().BeEquivalentTo(FacadeTestKit.Map(("m", "1")));
    }

    [Test]
    public async Task Update_changes_ETag_and_LastModified_but_not_the_content()
    {
        await using var t = await TestStore.OpenAsync();
        var before = await SeedAsync(t);
        t.Time.Advance(TimeSpan.FromMinutes(2));

        var updated = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("new", "1")) });

        updated.ETag.Should().NotBe(before.ETag);
        updated.ETag.Should().MatchRegex("^\".+\"$");
        updated.LastModified.Should().Be(before.LastModified + TimeSpan.FromMinutes(2));
        updated.CreatedOn.Should().Be(before.CreatedOn);
        updated.ContentHash.Should().Be(before.ContentHash);
        updated.Size.Should().Be(before.Size);
        updated.ContentType.Should().Be(before.ContentType);
        updated.StorageClass.Should().Be(before.StorageClass);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(1, 2, 3);
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(3);
    }

    [Test]
    public async Task Update_with_conditions()
    {
        await using var t = await TestStore.OpenAsync();
        var before = await SeedAsync(t);

        var updated = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate
        {
            Tags = FacadeTestKit.Change(("c", "3")),
            Conditions = new BlobRequestConditions { IfMatch = before.ETag },
        });
        updated.Tags.Should().ContainKey("c");

        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate
        {
            Tags = FacadeTestKit.Change(("d", "4")),
            Conditions = new BlobRequestConditions { IfMatch = before.ETag },
        })).Should().ThrowAsync<PreconditionFailedException>();
        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate
        {
            Tags = FacadeTestKit.Change(("d", "4")),
            Conditions = new BlobRequestConditions { IfNoneMatch = updated.ETag },
        })).Should().ThrowAsync<PreconditionFailedException>();

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(updated);
    }

    [Test]
    public async Task Update_of_a_missing_blob_or_container_throws_not_found()
    {
        await using var t = await TestStore.OpenAsync();
        await SeedAsync(t);
        var update = new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("a", "b")) };

        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "missing", update)).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("nope", "blob", update)).Should().ThrowAsync<ContainerNotFoundException>();
    }

    [Test]
    public async Task Tags_and_metadata_at_their_limits_are_accepted()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var tags = Enumerable.Range(0, 10).ToDictionary(i => $"k{i}", i => "v");
        tags["k0"] = new string('v', 256);
        tags[new string('k', 128)] = "long key";
        tags.Remove("k9");
        // 8 KiB of keys and values in all: "big" (3 bytes) plus 8189 bytes of value.
        var metadata = FacadeTestKit.Map(("big", new string('m', 8 * 1024 - 3)));

        var stored = await t.Store.UploadBytesAsync("data", "limits", [1], new BlobUploadOptions { Tags = tags, Metadata = metadata });

        stored.Tags.Should().HaveCount(10).And.BeEquivalentTo(tags);
        stored.Metadata.Should().BeEquivalentTo(metadata);
        (await t.Store.GetPropertiesAsync("data", "limits")).Tags.Should().BeEquivalentTo(tags);
    }

    private static readonly (string Label, Dictionary<string, string> Values, string Rule)[] BadTags =
    [
        ("11 tags", Enumerable.Range(0, 11).ToDictionary(i => $"k{i}", i => "v"), "*at most 10 tags*"),
        ("tag key of 129 characters", FacadeTestKit.Map((new string('k', 129), "v")), "*1 to 128 characters*"),
        ("empty tag key", FacadeTestKit.Map(("", "v")), "*1 to 128 characters*"),
        ("tag value of 257 characters", FacadeTestKit.Map(("k", new string('v', 257))), "*at most 256 characters*"),
        ("tag key with a star", FacadeTestKit.Map(("k*", "v")), "*letters, digits, spaces and + - . / : = _ only*"),
        ("tag value with a non-ASCII letter", FacadeTestKit.Map(("k", "caf\u00E9")), "*letters, digits, spaces and + - . / : = _ only*"),
        ("tag value with a newline", FacadeTestKit.Map(("k", "a\nb")), "*letters, digits, spaces and + - . / : = _ only*"),
    ];

    private static readonly (string Label, Dictionary<string, string> Values, string Rule)[] BadMetadata =
    [
        ("metadata of 8 KiB plus one byte", FacadeTestKit.Map(("big", new string('m', (8 * 1024) - 2))), "*at most 8192 bytes*"),
        ("metadata over 8 KiB in UTF-8 though under it in characters", FacadeTestKit.Map(("a", new string('\u00E9', 4097))), "*at most 8192 bytes*"),
        ("metadata key with a hyphen", FacadeTestKit.Map(("my-key", "v")), "*identifiers*"),
        ("metadata key starting with a digit", FacadeTestKit.Map(("1abc", "v")), "*identifiers*"),
        ("empty metadata key", FacadeTestKit.Map(("", "v")), "*identifiers*"),
        ("metadata key with a non-ASCII letter", FacadeTestKit.Map(("caf\u00E9", "v")), "*identifiers*"),
        ("metadata keys differing only in case", FacadeTestKit.Map(("Key", "1"), ("key", "2")), "*without case*"),
        ("metadata value with a NUL", FacadeTestKit.Map(("k", "a\u0000b")), "*control character*"),
    ];

    private static Dictionary<string, string?> AsChange(Dictionary<string, string> values) =>
        values.ToDictionary(p => p.Key, p => (string?)p.Value, StringComparer.Ordinal);

    [Test]
    public async Task Bad_tags_on_upload_throw_ArgumentException_naming_the_rule_and_store_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        var before = await SeedAsync(t);

        using (new AssertionScope())
        {
            foreach (var (label, tags, rule) in BadTags)
            {
                await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [9], new BlobUploadOptions { Tags = tags }))
                    .Should().ThrowAsync<ArgumentException>(label).WithMessage(rule, label);
            }
        }

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
    }

    [Test]
    public async Task Bad_tags_on_update_throw_ArgumentException_naming_the_rule_and_change_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        var before = await SeedAsync(t);

        using (new AssertionScope())
        {
            foreach (var (label, tags, rule) in BadTags)
            {
                foreach (var mode in new[] { MetadataUpdateMode.Merge, MetadataUpdateMode.Replace })
                {
                    var update = new BlobMetadataUpdate { Mode = mode, Tags = AsChange(tags) };
                    await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", update))
                        .Should().ThrowAsync<ArgumentException>("{0} ({1})", label, mode).WithMessage(rule, "{0} ({1})", label, mode);
                }
            }
        }

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
    }

    [Test]
    public async Task Bad_metadata_on_upload_throws_ArgumentException_naming_the_rule_and_stores_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        var before = await SeedAsync(t);

        using (new AssertionScope())
        {
            foreach (var (label, metadata, rule) in BadMetadata)
            {
                await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [9], new BlobUploadOptions { Metadata = metadata }))
                    .Should().ThrowAsync<ArgumentException>(label).WithMessage(rule, label);
            }
        }

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
    }

    [Test]
    public async Task Bad_metadata_on_update_throws_ArgumentException_naming_the_rule_and_changes_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        var before = await SeedAsync(t);

        using (new AssertionScope())
        {
            foreach (var (label, metadata, rule) in BadMetadata)
            {
                foreach (var mode in new[] { MetadataUpdateMode.Merge, MetadataUpdateMode.Replace })
                {
                    var update = new BlobMetadataUpdate { Mode = mode, Metadata = AsChange(metadata) };
                    await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", update))
                        .Should().ThrowAsync<ArgumentException>("{0} ({1})", label, mode).WithMessage(rule, "{0} ({1})", label, mode);
                }
            }
        }

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
    }

    [Test]
    public async Task A_merge_that_would_pass_ten_tags_fails_and_changes_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var tags = Enumerable.Range(0, 10).ToDictionary(i => $"k{i}", i => "v");
        var before = await t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { Tags = tags });

        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("k10", "v")) }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*at most 10 tags*");
        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);

        // Removing one in the same merge makes room.
        var updated = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("k10", "v"), ("k0", null)) });
        updated.Tags.Should().HaveCount(10).And.ContainKey("k10").And.NotContainKey("k0");
    }

    [Test]
    public async Task A_merge_that_would_pass_8_KiB_of_metadata_fails_and_changes_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var before = await t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { Metadata = FacadeTestKit.Map(("a", new string('x', 5000))) });

        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Metadata = FacadeTestKit.Change(("b", new string('y', 5000))) }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*at most 8192 bytes*");
        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
    }

    [Test]
    public async Task Metadata_keys_compare_without_case_when_merging()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { Metadata = FacadeTestKit.Map(("color", "blue"), ("size", "L")) });

        var renamed = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Metadata = FacadeTestKit.Change(("Color", "red")) });
        renamed.Metadata.Should().BeEquivalentTo(FacadeTestKit.Map(("Color", "red"), ("size", "L")));

        var removed = await t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Metadata = FacadeTestKit.Change(("SIZE", null)) });
        removed.Metadata.Should().BeEquivalentTo(FacadeTestKit.Map(("Color", "red")));
    }

    [Test]
    public async Task Bad_update_shapes_throw_ArgumentException()
    {
        await using var t = await TestStore.OpenAsync();
        var before = await SeedAsync(t);

        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", null!)).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate()))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*both are null*");
        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Mode = (MetadataUpdateMode)7, Tags = FacadeTestKit.Change(("a", "b")) }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*mode*");
        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Mode = MetadataUpdateMode.Replace, Tags = FacadeTestKit.Change(("a", null)) }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*only when merging*");
        await FluentActions.Awaiting(() => t.Store.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Metadata = FacadeTestKit.Change(("bad-key", null)) }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*identifiers*");

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
    }

    [Test]
    public async Task Null_tag_or_metadata_values_on_upload_throw_ArgumentException()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { Tags = new Dictionary<string, string> { ["k"] = null! } }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*null value*");
        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["k"] = null! } }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*null value*");
        (await t.Store.AllNamesAsync("data")).Should().BeEmpty();
    }
}
