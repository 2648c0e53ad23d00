using BlobStorage.Abstractions;
using BlobStorage.Metadata.Sqlite;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class ContainerTests
{
    [Test]
    public async Task Create_without_options_uses_the_defaults_and_the_clock()
    {
        await using var t = await TestStore.OpenAsync();
        var created = await t.Store.CreateContainerAsync("plain");

        created.Name.Should().Be("plain");
        created.DefaultStorageClass.Should().Be(StorageClass.Standard);
        created.ReplicationStrategy.Should().Be(ReplicationStrategy.Single);
        created.AccessPolicy.Should().Be(AccessPolicy.Private);
        created.CreatedOn.Should().Be(t.Time.GetUtcNow());
        (await t.Store.GetContainerAsync("plain")).Should().BeEquivalentTo(created);
    }

    [Test]
    public async Task Create_keeps_every_storage_class()
    {
        await using var t = await TestStore.OpenAsync();
        foreach (var storageClass in Enum.GetValues<StorageClass>())
        {
            var name = "class-" + (int)storageClass;
            var created = await t.Store.CreateContainerAsync(name, new ContainerOptions { DefaultStorageClass = storageClass });
            created.DefaultStorageClass.Should().Be(storageClass);
            (await t.Store.GetContainerAsync(name)).DefaultStorageClass.Should().Be(storageClass);
        }
    }

    [Test]
    public async Task Create_keeps_every_replication_strategy_and_access_policy()
    {
        // A topology that can keep every strategy: three local nodes and a second region.
        await using var t = await TestStore.OpenAsync(o =>
        {
            o.Topology.LocalRegion = "home";
            foreach (var node in new[] { "n1", "n2", "n3" }) o.Topology.AddNode("home", node, Path.Combine(o.RootPath, node));
            o.Topology.AddNode("away", "n4", Path.Combine(o.RootPath, "n4"));
        });
        foreach (var strategy in Enum.GetValues<ReplicationStrategy>())
        {
            foreach (var policy in Enum.GetValues<AccessPolicy>())
            {
                var name = $"r{(int)strategy}-p{(int)policy}";
                var options = new ContainerOptions { ReplicationStrategy = strategy, AccessPolicy = policy, DefaultStorageClass = StorageClass.Archive };
                var created = await t.Store.CreateContainerAsync(name, options);
                created.ReplicationStrategy.Should().Be(strategy);
                created.AccessPolicy.Should().Be(policy);
                var read = await t.Store.GetContainerAsync(name);
                read.Should().BeEquivalentTo(created);
            }
        }
    }

    [Test]
    public async Task Create_with_an_undefined_enum_value_throws_ArgumentException_and_creates_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        var store = t.Store;

        await FluentActions.Awaiting(() => store.CreateContainerAsync("bad", new ContainerOptions { DefaultStorageClass = (StorageClass)42 }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*StorageClass*");
        await FluentActions.Awaiting(() => store.CreateContainerAsync("bad", new ContainerOptions { ReplicationStrategy = (ReplicationStrategy)42 }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*ReplicationStrategy*");
        await FluentActions.Awaiting(() => store.CreateContainerAsync("bad", new ContainerOptions { AccessPolicy = (AccessPolicy)42 }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*AccessPolicy*");

        (await store.AllContainersAsync()).Should().BeEmpty();
    }

    [Test]
    public async Task List_returns_containers_in_ordinal_order_and_filters_by_prefix()
    {
        await using var t = await TestStore.OpenAsync();
        string[] names = ["beta", "alpha-2", "alpha", "a1b", "zeta", "alphabet", "0-first"];
        foreach (var name in names) await t.Store.CreateContainerAsync(name);

        var all = await t.Store.AllContainersAsync();
        all.Select(c => c.Name).Should().Equal(names.Order(StringComparer.Ordinal));
        all.Select(c => c.Name).Should().Equal("0-first", "a1b", "alpha", "alpha-2", "alphabet", "beta", "zeta");

        (await t.Store.AllContainersAsync("alpha")).Select(c => c.Name).Should().Equal("alpha", "alpha-2", "alphabet");
        (await t.Store.AllContainersAsync("alpha-")).Select(c => c.Name).Should().Equal("alpha-2");
        (await t.Store.AllContainersAsync("nothing")).Should().BeEmpty();
        (await t.Store.AllContainersAsync("")).Should().HaveCount(names.Length);
    }

    [Test]
    public async Task List_of_an_empty_store_is_empty()
    {
        await using var t = await TestStore.OpenAsync();
        (await t.Store.AllContainersAsync()).Should().BeEmpty();
    }

    [Test]
    public async Task Create_twice_throws_ContainerAlreadyExists_and_keeps_the_first()
    {
        await using var t = await TestStore.OpenAsync();
        var first = await t.Store.CreateContainerAsync("dup", new ContainerOptions { DefaultStorageClass = StorageClass.Archive });
        t.Time.Advance(TimeSpan.FromMinutes(1));

        var thrown = await FluentActions.Awaiting(() => t.Store.CreateContainerAsync("dup", new ContainerOptions { DefaultStorageClass = StorageClass.ColdArchive }))
            .Should().ThrowAsync<ContainerAlreadyExistsException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.ContainerAlreadyExists);
        thrown.Which.Container.Should().Be("dup");

        (await t.Store.GetContainerAsync("dup")).Should().BeEquivalentTo(first);
        (await t.Store.AllContainersAsync()).Should().ContainSingle();
    }

    [Test]
    public async Task Get_and_delete_of_a_missing_container_throw_ContainerNotFound()
    {
        await using var t = await TestStore.OpenAsync();

        var get = await FluentActions.Awaiting(() => t.Store.GetContainerAsync("missing")).Should().ThrowAsync<ContainerNotFoundException>();
        get.Which.ErrorCode.Should().Be(BlobErrorCode.ContainerNotFound);
        get.Which.Container.Should().Be("missing");

        var delete = await FluentActions.Awaiting(() => t.Store.DeleteContainerAsync("missing")).Should().ThrowAsync<ContainerNotFoundException>();
        delete.Which.ErrorCode.Should().Be(BlobErrorCode.ContainerNotFound);
        await FluentActions.Awaiting(() => t.Store.DeleteContainerAsync("missing", deleteContents: true)).Should().ThrowAsync<ContainerNotFoundException>();
    }

    [Test]
    public async Task Delete_of_an_empty_container_removes_it_and_the_name_can_be_used_again()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("gone", new ContainerOptions { AccessPolicy = AccessPolicy.Public });
        await t.Store.DeleteContainerAsync("gone");

        await FluentActions.Awaiting(() => t.Store.GetContainerAsync("gone")).Should().ThrowAsync<ContainerNotFoundException>();
        (await t.Store.AllContainersAsync()).Should().BeEmpty();

        var again = await t.Store.CreateContainerAsync("gone");
        again.AccessPolicy.Should().Be(AccessPolicy.Private);
    }

    [Test]
    public async Task Delete_of_a_container_emptied_blob_by_blob_succeeds()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("emptied");
        await t.Store.UploadBytesAsync("emptied", "a", [1]);
        await t.Store.DeleteAsync("emptied", "a");

        await t.Store.DeleteContainerAsync("emptied");
        (await t.Store.AllContainersAsync()).Should().BeEmpty();
    }

    [Test]
    public async Task Delete_of_a_non_empty_container_throws_ContainerNotEmpty_and_deletes_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("full");
        var a = Streams.Bytes(1000, seed: 1);
        var b = Streams.Bytes(TestStore.ChunkSize + 1, seed: 2);
        await t.Store.UploadBytesAsync("full", "a", a);
        await t.Store.UploadBytesAsync("full", "dir/b", b);
        var before = await t.Store.GetStatisticsAsync();

        var thrown = await FluentActions.Awaiting(() => t.Store.DeleteContainerAsync("full")).Should().ThrowAsync<ContainerNotEmptyException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.ContainerNotEmpty);
        thrown.Which.Container.Should().Be("full");
        thrown.Which.Message.Should().Contain("2 blob");

        (await t.Store.GetContainerAsync("full")).Name.Should().Be("full");
        (await t.Store.AllNamesAsync("full")).Should().Equal("a", "dir/b");
        (await t.Store.DownloadBytesAsync("full", "a")).Should().Equal(a);
        (await t.Store.DownloadBytesAsync("full", "dir/b")).Should().Equal(b);
        var after = await t.Store.GetStatisticsAsync();
        after.TotalBlobs.Should().Be(before.TotalBlobs);
        after.TotalBytes.Should().Be(before.TotalBytes);
        after.DeleteOperations.Should().Be(0);
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }

    [Test]
    public async Task Delete_with_contents_removes_the_blobs_and_collects_their_chunks_after_the_grace_period()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("doomed");
        await t.Store.CreateContainerAsync("kept");
        var big = Streams.Bytes(3 * TestStore.ChunkSize + 10, seed: 3);
        var shared = Streams.Bytes(TestStore.ChunkSize + 500, seed: 4);
        await t.Store.UploadBytesAsync("doomed", "big", big);
        await t.Store.UploadBytesAsync("doomed", "x/shared", shared);
        await t.Store.UploadBytesAsync("kept", "shared", shared);
        await t.Store.UploadBytesAsync("doomed", "small", [1, 2, 3]);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount(6);

        await t.Store.DeleteContainerAsync("doomed", deleteContents: true);

        await FluentActions.Awaiting(() => t.Store.GetContainerAsync("doomed")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("doomed", "big")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("doomed", "big")).Should().ThrowAsync<ContainerNotFoundException>();
        (await t.Store.AllContainersAsync()).Select(c => c.Name).Should().Equal("kept");

        var stats = await t.Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(shared.Length);
        stats.StoredBytes.Should().Be(shared.Length);
        stats.DeleteOperations.Should().Be(3);
        stats.Containers.Select(c => c.Name).Should().Equal("kept");

        // Inside the grace period nothing is collected.
        (await t.Store.RunMaintenanceAsync()).ChunksCollected.Should().Be(0);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount(6);

        t.Time.Advance(TimeSpan.FromMinutes(16));
        var report = await t.Store.RunMaintenanceAsync();
        report.ChunksCollected.Should().Be(4);
        report.BytesReclaimed.Should().Be(big.Length);

        var verify = await t.Store.VerifyAsync(verifyContent: true);
        verify.IsClean.Should().BeTrue();
        verify.ChunksAwaitingCollection.Should().Be(0);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().Equal(
            ChunkNames.Of(shared, TestStore.ChunkSize)
                .Select(chunk => FacadeTestKit.ChunkPath(t.RootPath, chunk.Id.ToString()))
                .Order(StringComparer.Ordinal));
        (await t.Store.DownloadBytesAsync("kept", "shared")).Should().Equal(shared);

        // A container of the same name starts empty.
        await t.Store.CreateContainerAsync("doomed");
        (await t.Store.AllNamesAsync("doomed")).Should().BeEmpty();
    }

    [Test]
    public async Task Delete_with_contents_of_an_empty_container_succeeds()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("empty");
        await t.Store.DeleteContainerAsync("empty", deleteContents: true);
        (await t.Store.AllContainersAsync()).Should().BeEmpty();
        (await t.Store.GetStatisticsAsync()).DeleteOperations.Should().Be(0);
    }

    [Test]
    public async Task When_every_chunk_is_gone_no_chunk_file_remains()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("c01");
        for (var i = 0; i < 4; i++) await t.Store.UploadBytesAsync("c01", $"b{i}", Streams.Bytes(TestStore.ChunkSize / 2 * (i + 1), seed: 10 + i));
        await t.Store.DeleteContainerAsync("c01", deleteContents: true);

        t.Time.Advance(TimeSpan.FromMinutes(15));
        await t.Store.RunMaintenanceAsync();

        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(0);
    }

    [Test]
    public async Task An_upload_that_starts_after_a_container_is_recreated_uses_the_new_settings()
    {
        using var folder = new TempFolder("gated");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        Task<IBlobStore> Open(IMetadataStore? metadata = null)
        {
            var builder = new BlobStoreBuilder(folder.Path).Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan).UseTimeProvider(time);
            return (metadata is null ? builder : builder.UseMetadataStore(metadata)).OpenAsync();
        }

        await using (var first = await Open())
        {
            await first.CreateContainerAsync("data", new ContainerOptions { DefaultStorageClass = StorageClass.Archive });
        }

        var (metadata, gate) = GatedMetadataStore.Wrap(new SqliteMetadataStore(new SqliteMetadataStoreOptions { DatabasePath = Path.Combine(folder.Path, "metadata.db") }));
        await using var disposeMetadata = metadata;
        await using var store = await Open(metadata);

        // An upload looks the container up (and reads Archive) while the container is deleted and created again as Standard.
        gate.HoldNextContainerLookup();
        var racing = store.UploadBytesAsync("data", "racing", [1]);
        try
        {
            await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await store.DeleteContainerAsync("data");
            await store.CreateContainerAsync("data", new ContainerOptions { DefaultStorageClass = StorageClass.Standard });
        }
        finally
        {
            gate.Release();
        }

        await racing;
        var later = await store.UploadBytesAsync("data", "later", [2]);

        later.StorageClass.Should().Be(StorageClass.Standard, "an upload that starts after the container was recreated must see its new default storage class");
    }
}
