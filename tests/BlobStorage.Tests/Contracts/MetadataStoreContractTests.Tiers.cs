using BlobStorage.Abstractions;

namespace BlobStorage.Tests.Contracts;

/// <summary>The storage-tier part of the contract: a blob's class and pending rehydration, a container's default class, lifecycle rules.</summary>
public abstract partial class MetadataStoreContractTests
{
    [Test]
    public async Task A_blob_changes_class_keeping_its_etag_modification_time_and_chunks()
    {
        await CreateContainerAsync();
        var blob = await CommitAsync(Blob(Box, "a", T(1), Chunk(1), Chunk(2)));

        var moved = await Store.SetBlobStorageClassAsync(Box, "a", StorageClass.Archive, rehydratingTo: null, conditions: null, expectedVersionId: blob.Properties.VersionId);

        moved.Properties.StorageClass.Should().Be(StorageClass.Archive);
        moved.Properties.RehydratingTo.Should().BeNull();
        var stored = (await Store.GetBlobAsync(Box, "a"))!;
        stored.Properties.Should().BeEquivalentTo(blob.Properties with { StorageClass = StorageClass.Archive });
        stored.Chunks.Should().Equal(blob.Chunks);
        (await ReferencesAsync(Chunk(1))).Should().Be(1);
    }

    [Test]
    public async Task A_pending_rehydration_is_stored_listed_found_and_survives_a_metadata_update_and_a_restart()
    {
        await CreateContainerAsync();
        var blob = await CommitAsync(Blob(Box, "cold", T(1), Chunk(1)));
        await CommitAsync(Blob(Box, "other", T(1), Chunk(2)));
        await Store.SetBlobStorageClassAsync(Box, "cold", StorageClass.ColdArchive, StorageClass.InfrequentAccess, null, null);
        await Store.UpdateBlobMetadataAsync(Box, "cold", new BlobMetadataUpdate { Tags = new Dictionary<string, string?> { ["k"] = "v" } }, "\"new\"", T(2));
        await ReopenStoreAsync();

        var properties = (await Store.GetBlobAsync(Box, "cold"))!.Properties;
        properties.StorageClass.Should().Be(StorageClass.ColdArchive);
        properties.RehydratingTo.Should().Be(StorageClass.InfrequentAccess);
        var listed = (await Store.ListBlobsAsync(Box, new BlobListQuery())).Blobs.Single(b => b.Name == "cold");
        listed.RehydratingTo.Should().Be(StorageClass.InfrequentAccess);
        var pending = await Store.GetPendingRehydrationsAsync(10);
        pending.Should().ContainSingle().Which.Should().Match<BlobProperties>(p => p.Container == Box && p.Name == "cold" && p.VersionId == blob.Properties.VersionId);

        await Store.SetBlobStorageClassAsync(Box, "cold", StorageClass.InfrequentAccess, null, null, null);
        (await Store.GetPendingRehydrationsAsync(10)).Should().BeEmpty();
    }

    [Test]
    public async Task A_new_version_drops_a_pending_rehydration()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "cold", T(1), Chunk(1)));
        await Store.SetBlobStorageClassAsync(Box, "cold", StorageClass.ColdArchive, StorageClass.Standard, null, null);
        await CommitAsync(Blob(Box, "cold", T(2), Chunk(2)));

        (await Store.GetBlobAsync(Box, "cold"))!.Properties.RehydratingTo.Should().BeNull();
        (await Store.GetPendingRehydrationsAsync(10)).Should().BeEmpty();
    }

    [Test]
    public async Task Changing_the_class_of_another_version_or_under_a_failed_condition_changes_nothing()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "a", T(1), Chunk(1)));

        await ShouldChangeNothingAsync(() => Store.SetBlobStorageClassAsync(Box, "a", StorageClass.Archive, null, null, "v-someone-else").AsTask(), typeof(PreconditionFailedException));
        await ShouldChangeNothingAsync(() => Store.SetBlobStorageClassAsync(Box, "a", StorageClass.Archive, null, new BlobRequestConditions { IfMatch = "\"nope\"" }, null).AsTask(), typeof(PreconditionFailedException));
        await ShouldChangeNothingAsync(() => Store.SetBlobStorageClassAsync(Box, "missing", StorageClass.Archive, null, null, null).AsTask(), typeof(BlobNotFoundException));
    }

    [Test]
    public async Task Copying_a_ColdArchive_blob_is_refused_and_changes_nothing()
    {
        await CreateContainerAsync();
        await CommitAsync(Blob(Box, "cold", T(1), Chunk(1)));
        await Store.SetBlobStorageClassAsync(Box, "cold", StorageClass.ColdArchive, null, null, null);

        await ShouldChangeNothingAsync(
            () => Store.CopyBlobAsync(new BlobCopyRequest { SourceContainer = Box, SourceName = "cold", DestinationContainer = Box, DestinationName = "copy", VersionId = "vcopy", ETag = "\"copy\"", Now = T(2), Options = new BlobCopyOptions() }).AsTask(),
            typeof(BlobArchivedException));
    }

    [Test]
    public async Task A_containers_default_class_changes_and_is_kept()
    {
        await CreateContainerAsync();

        var changed = await Store.SetContainerDefaultStorageClassAsync(Box, StorageClass.Archive);
        changed.DefaultStorageClass.Should().Be(StorageClass.Archive);
        changed.Name.Should().Be(Box);
        await ReopenStoreAsync();
        (await Store.GetContainerAsync(Box))!.DefaultStorageClass.Should().Be(StorageClass.Archive);
        await FluentActions.Awaiting(() => Store.SetContainerDefaultStorageClassAsync("nobox", StorageClass.Archive).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
    }

    [Test]
    public async Task Lifecycle_rules_round_trip_in_order_are_replaced_removed_and_go_with_their_container()
    {
        await CreateContainerAsync();
        await CreateContainerAsync("other");
        (await Store.GetLifecycleRulesAsync(Box)).Should().BeEmpty();
        (await Store.GetLifecycleRulesAsync("nobox")).Should().BeNull();
        LifecycleRule[] rules =
        [
            new() { Name = "cool", Prefix = "logs/é", StorageClass = StorageClass.InfrequentAccess, DaysAfter = 30, Basis = LifecycleBasis.LastAccessed },
            new() { Name = "archive", StorageClass = StorageClass.Archive, DaysAfter = 90 },
            new() { Name = "expire", Prefix = "logs/", Action = LifecycleAction.Delete, DaysAfter = 365 },
        ];

        await Store.SetLifecycleRulesAsync(Box, rules);
        await ReopenStoreAsync();
        (await Store.GetLifecycleRulesAsync(Box)).Should().Equal(rules);
        (await Store.GetLifecycleRulesAsync("other")).Should().BeEmpty();

        await Store.SetLifecycleRulesAsync(Box, [rules[2]]);
        (await Store.GetLifecycleRulesAsync(Box)).Should().Equal(rules[2]);
        await Store.SetLifecycleRulesAsync(Box, []);
        (await Store.GetLifecycleRulesAsync(Box)).Should().BeEmpty();

        await Store.SetLifecycleRulesAsync(Box, rules);
        await Store.DeleteContainerAsync(Box, deleteContents: false, T(5));
        await CreateContainerAsync();
        (await Store.GetLifecycleRulesAsync(Box)).Should().BeEmpty("a container made anew under the same name starts without rules");
        await FluentActions.Awaiting(() => Store.SetLifecycleRulesAsync("nobox", rules).AsTask()).Should().ThrowAsync<ContainerNotFoundException>();
    }
}
