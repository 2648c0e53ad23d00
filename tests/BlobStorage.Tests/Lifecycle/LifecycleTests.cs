using BlobStorage.Abstractions;
using BlobStorage.Tests.Facade;
using BlobStorage.Tests.Support;
using BlobStorage.Tests.Tiers;

namespace BlobStorage.Tests.Lifecycle;

/// <summary>Lifecycle rules per container, applied by maintenance under the store's (fake) clock.</summary>
public sealed class LifecycleTests
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    [Test]
    public async Task Rules_move_blobs_to_colder_classes_and_delete_them_by_days_since_their_last_modification()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("logs");
        await store.SetLifecycleRulesAsync("logs",
        [
            new LifecycleRule { Name = "cool", Prefix = "app/", StorageClass = StorageClass.InfrequentAccess, DaysAfter = 30 },
            new LifecycleRule { Name = "archive", Prefix = "app/", StorageClass = StorageClass.Archive, DaysAfter = 90 },
            new LifecycleRule { Name = "expire", Prefix = "app/", Action = LifecycleAction.Delete, DaysAfter = 365 },
        ]);
        var content = TierContent.Text(TestStore.ChunkSize);
        await store.UploadAsync("logs", "app/old.log", new MemoryStream(content));
        await store.UploadAsync("logs", "keep/old.log", new MemoryStream(content));

        test.Time.Advance(29 * Day);
        var early = await store.RunMaintenanceAsync();
        early.BlobsMovedByLifecycle.Should().Be(0);
        (await store.GetPropertiesAsync("logs", "app/old.log")).StorageClass.Should().Be(StorageClass.Standard);

        test.Time.Advance(Day);
        (await store.RunMaintenanceAsync()).BlobsMovedByLifecycle.Should().Be(1);
        (await store.GetPropertiesAsync("logs", "app/old.log")).StorageClass.Should().Be(StorageClass.InfrequentAccess);

        test.Time.Advance(60 * Day);
        (await store.RunMaintenanceAsync()).BlobsMovedByLifecycle.Should().Be(1);
        (await store.GetPropertiesAsync("logs", "app/old.log")).StorageClass.Should().Be(StorageClass.Archive);
        FacadeTestKit.ChunkFiles(test.RootPath).Select(TierContent.MagicOf).Should().AllBe("BSCHUNKZ", "the two blobs share their one chunk, now in the Archive form");
        (await store.ReadAllAsync("logs", "keep/old.log")).Should().Equal(content);

        test.Time.Advance(275 * Day);
        var expiry = await store.RunMaintenanceAsync();
        expiry.BlobsDeletedByLifecycle.Should().Be(1);
        expiry.BlobsMovedByLifecycle.Should().Be(0);
        (await store.AllNamesAsync("logs")).Should().Equal("keep/old.log");
        (await store.GetPropertiesAsync("logs", "keep/old.log")).StorageClass.Should().Be(StorageClass.Standard);
    }

    [Test]
    public async Task A_rule_by_last_access_keeps_a_blob_that_is_read_and_moves_one_that_is_not()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("media");
        await store.SetLifecycleRulesAsync("media", [new LifecycleRule { Name = "idle", StorageClass = StorageClass.Archive, DaysAfter = 10, Basis = LifecycleBasis.LastAccessed }]);
        await store.UploadAsync("media", "read.txt", new MemoryStream(TierContent.Text(1000, seed: 1)));
        await store.UploadAsync("media", "idle.txt", new MemoryStream(TierContent.Text(1000, seed: 2)));

        for (var day = 0; day < 3; day++)
        {
            test.Time.Advance(6 * Day);
            await store.ReadAllAsync("media", "read.txt");
            await store.RunMaintenanceAsync();
        }

        (await store.GetPropertiesAsync("media", "read.txt")).StorageClass.Should().Be(StorageClass.Standard, "it was read every 6 days");
        (await store.GetPropertiesAsync("media", "idle.txt")).StorageClass.Should().Be(StorageClass.Archive, "18 days passed since it was written, never read");
    }

    [Test]
    public async Task Lifecycle_never_moves_a_blob_to_a_hotter_class_nor_over_a_pending_rehydration_and_can_archive_to_ColdArchive()
    {
        await using var test = await TestStore.OpenAsync();
        var store = test.Store;
        await store.CreateContainerAsync("vault");
        await store.SetLifecycleRulesAsync("vault", [new LifecycleRule { Name = "ia", StorageClass = StorageClass.InfrequentAccess, DaysAfter = 1 }, new LifecycleRule { Name = "deep", Prefix = "deep/", StorageClass = StorageClass.ColdArchive, DaysAfter = 5 }]);
        await store.UploadAsync("vault", "archived.txt", new MemoryStream(TierContent.Text(1000)), new BlobUploadOptions { StorageClass = StorageClass.Archive });
        await store.UploadAsync("vault", "deep/a.txt", new MemoryStream(TierContent.Text(1000, seed: 3)));
        test.Time.Advance(10 * Day);

        await store.RunMaintenanceAsync();

        (await store.GetPropertiesAsync("vault", "archived.txt")).StorageClass.Should().Be(StorageClass.Archive);
        (await store.GetPropertiesAsync("vault", "deep/a.txt")).StorageClass.Should().Be(StorageClass.ColdArchive, "the coldest class that applies wins");
        await store.RehydrateAsync("vault", "deep/a.txt", StorageClass.Standard);
        var pass = await store.RunMaintenanceAsync();
        pass.BlobsRehydrated.Should().Be(1);
        pass.BlobsMovedByLifecycle.Should().Be(0, "lifecycle ran before the rehydration completed and did not undo it");
        (await store.GetPropertiesAsync("vault", "deep/a.txt")).StorageClass.Should().Be(StorageClass.Standard);

        // As the README warns: a rule counted from the last modification archives a rehydrated blob again at a later pass.
        (await store.RunMaintenanceAsync()).BlobsMovedByLifecycle.Should().Be(1);
        (await store.GetPropertiesAsync("vault", "deep/a.txt")).StorageClass.Should().Be(StorageClass.ColdArchive);
    }

    [Test]
    public async Task Rules_survive_a_restart_and_go_when_removed()
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("logs");
        LifecycleRule[] rules = [new LifecycleRule { Name = "expire", Action = LifecycleAction.Delete, DaysAfter = 7 }];
        (await test.Store.SetLifecycleRulesAsync("logs", rules)).Should().Equal(rules);
        await test.ReopenAsync();
        (await test.Store.GetLifecycleRulesAsync("logs")).Should().Equal(rules);

        await test.Store.DeleteLifecycleRulesAsync("logs");
        await test.Store.UploadAsync("logs", "a", new MemoryStream([1]));
        test.Time.Advance(30 * Day);
        (await test.Store.RunMaintenanceAsync()).BlobsDeletedByLifecycle.Should().Be(0);
        (await test.Store.GetLifecycleRulesAsync("logs")).Should().BeEmpty();
        await FluentActions.Awaiting(() => test.Store.GetLifecycleRulesAsync("nologs")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => test.Store.SetLifecycleRulesAsync("nologs", rules)).Should().ThrowAsync<ContainerNotFoundException>();
    }

    private static IEnumerable<TestCaseData> InvalidRules()
    {
        LifecycleRule Move(string name, int days, StorageClass? to = StorageClass.Archive, string? prefix = null) => new() { Name = name, StorageClass = to, DaysAfter = days, Prefix = prefix };
        yield return new TestCaseData(new[] { Move("neg", -1) }, "rules[0].DaysAfter").SetName("Negative days");
        yield return new TestCaseData(new[] { Move("ok", 1), Move("big", 36_501) }, "rules[1].DaysAfter").SetName("Too many days");
        yield return new TestCaseData(new[] { Move("none", 1, to: null) }, "rules[0].StorageClass").SetName("A move without a class");
        yield return new TestCaseData(new[] { Move("unknown", 1, to: (StorageClass)9) }, "rules[0].StorageClass").SetName("An unknown class");
        yield return new TestCaseData(new[] { Move("hot", 1, to: StorageClass.Standard) }, "rules[0].StorageClass").SetName("A move to Standard");
        yield return new TestCaseData(new[] { Move("a", 1), Move("a", 2) }, "rules[1].Name").SetName("A duplicate name");
        yield return new TestCaseData(new[] { Move("bad name!", 1) }, "rules[0].Name").SetName("A bad name");
        yield return new TestCaseData(new[] { Move("p", 1, prefix: "a\u0001") }, "rules[0].Prefix").SetName("A control character in the prefix");
        yield return new TestCaseData(new[] { new LifecycleRule { Name = "d", Action = LifecycleAction.Delete, StorageClass = StorageClass.Archive, DaysAfter = 3 } }, "rules[0].StorageClass").SetName("A delete with a class");
        yield return new TestCaseData(new[] { new LifecycleRule { Name = "d", Action = LifecycleAction.Delete, DaysAfter = 3, Basis = LifecycleBasis.LastAccessed } }, "rules[0].Basis").SetName("A delete by last access");
        yield return new TestCaseData(new[] { new LifecycleRule { Name = "x", Action = (LifecycleAction)5, DaysAfter = 3 } }, "rules[0].Action").SetName("An unknown action");
        yield return new TestCaseData(new[] { new LifecycleRule { Name = "expire", Action = LifecycleAction.Delete, Prefix = "logs/", DaysAfter = 30 }, Move("deep", 60, to: StorageClass.ColdArchive, prefix: "logs/app/") }, "rules[1].DaysAfter").SetName("A move to ColdArchive after the delete");
    }

    [TestCaseSource(nameof(InvalidRules))]
    public async Task An_invalid_rule_is_refused_naming_the_setting_and_nothing_changes(LifecycleRule[] rules, string setting)
    {
        await using var test = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("logs");
        LifecycleRule[] existing = [new LifecycleRule { Name = "keep", StorageClass = StorageClass.InfrequentAccess, DaysAfter = 10 }];
        await test.Store.SetLifecycleRulesAsync("logs", existing);

        var refused = await FluentActions.Awaiting(() => test.Store.SetLifecycleRulesAsync("logs", rules)).Should().ThrowAsync<ArgumentException>();

        refused.Which.ParamName.Should().Be(setting);
        (await test.Store.GetLifecycleRulesAsync("logs")).Should().Equal(existing);
    }
}
