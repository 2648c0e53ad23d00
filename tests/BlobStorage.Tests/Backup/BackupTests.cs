using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Backup;

[Parallelizable(ParallelScope.All)]
public class BackupTests
{
    private static Task<IBlobStore> OpenBackupAsync(string path) =>
        new BlobStoreBuilder(path).Configure(o =>
        {
            o.ChunkSize = TestStore.ChunkSize;
            o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
        }).OpenAsync();

    private static async Task<Dictionary<string, string>> ContentsAsync(IBlobStore store, string container)
    {
        var contents = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var blob in store.ListAllAsync(container)) contents[blob.Name] = Streams.Sha256(await store.DownloadBytesAsync(container, blob.Name));
        return contents;
    }

    [Test]
    public async Task A_backup_opens_as_the_same_store_verifies_clean_and_holds_every_blob()
    {
        await using var test = await TestStore.OpenAsync();
        using var target = new TempFolder("backup");
        await test.Store.CreateContainerAsync("data", new ContainerOptions { AccessPolicy = AccessPolicy.Public });
        await test.Store.UploadBytesAsync("data", "small", Streams.Bytes(100));
        await test.Store.UploadBytesAsync("data", "large", Streams.Bytes((3 * TestStore.ChunkSize) + 17, seed: 2), new BlobUploadOptions { Tags = new Dictionary<string, string> { ["k"] = "v" } });
        var expected = await ContentsAsync(test.Store, "data");

        var report = await test.Store.BackupAsync(target.Path);
        report.Incremental.Should().BeFalse();
        report.Blobs.Should().Be(2);
        (report.ChunksLinked + report.ChunksCopied).Should().Be(4);

        await using var backup = await OpenBackupAsync(target.Path);
        (await backup.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await ContentsAsync(backup, "data")).Should().Equal(expected);
        (await backup.GetContainerAsync("data")).AccessPolicy.Should().Be(AccessPolicy.Public);
        (await backup.GetPropertiesAsync("data", "large")).Tags.Should().Contain("k", "v");
    }

    [Test]
    public async Task A_second_backup_copies_only_new_chunks_and_drops_those_no_longer_referred_to()
    {
        await using var test = await TestStore.OpenAsync();
        using var target = new TempFolder("backup");
        await test.Store.CreateContainerAsync("data");
        for (var i = 0; i < 10; i++) await test.Store.UploadBytesAsync("data", $"b{i}", Streams.Bytes(TestStore.ChunkSize + 10, seed: i));
        var first = await test.Store.BackupAsync(target.Path);
        first.Chunks.Should().Be(20);

        await test.Store.DeleteAsync("data", "b0");
        await test.Store.UploadBytesAsync("data", "b1", Streams.Bytes(TestStore.ChunkSize + 10, seed: 100));
        await test.Store.UploadBytesAsync("data", "new", Streams.Bytes(TestStore.ChunkSize + 10, seed: 101));
        var expected = await ContentsAsync(test.Store, "data");

        var second = await test.Store.BackupAsync(target.Path);
        second.Incremental.Should().BeTrue();
        (second.ChunksLinked + second.ChunksCopied).Should().Be(4, "two new blobs of two chunks each");
        second.ChunksAlreadyPresent.Should().Be(second.Chunks - 4);

        // The deleted and overwritten blobs' chunks are awaiting collection in the store, so still referred to by rows;
        // once collected, the next backup drops them from the destination too.
        test.Time.Advance(TimeSpan.FromHours(1));
        await test.Store.RunMaintenanceAsync();
        var third = await test.Store.BackupAsync(target.Path);
        third.ChunksRemoved.Should().Be(4);
        third.ChunksLinked.Should().Be(0);
        third.ChunksCopied.Should().Be(0);

        await using var backup = await OpenBackupAsync(target.Path);
        (await backup.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        (await ContentsAsync(backup, "data")).Should().Equal(expected);
    }

    [Test]
    public async Task A_backup_refuses_a_destination_inside_the_store_or_a_folder_that_is_not_its_backup_and_writes_nothing()
    {
        await using var test = await TestStore.OpenAsync();
        await using var other = await TestStore.OpenAsync();
        await test.Store.CreateContainerAsync("data");

        var inside = Path.Combine(test.RootPath, "backups", "one");
        (await test.Store.Invoking(s => s.BackupAsync(inside)).Should().ThrowAsync<BlobStorageException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.BackupRefused);
        Directory.Exists(Path.Combine(test.RootPath, "backups")).Should().BeFalse();
        (await test.Store.Invoking(s => s.BackupAsync(test.RootPath)).Should().ThrowAsync<BlobStorageException>())
            .Which.Message.Should().Contain("inside the store");

        using var busy = new TempFolder("busy");
        File.WriteAllText(Path.Combine(busy.Path, "notes.txt"), "mine");
        (await test.Store.Invoking(s => s.BackupAsync(busy.Path)).Should().ThrowAsync<BlobStorageException>())
            .Which.Message.Should().Contain("not empty and is not a backup of this store");
        busy.Files().Should().Equal("notes.txt");

        using var foreign = new TempFolder("foreign");
        await other.Store.BackupAsync(foreign.Path);
        var before = foreign.Files();
        (await test.Store.Invoking(s => s.BackupAsync(foreign.Path)).Should().ThrowAsync<BlobStorageException>())
            .Which.Message.Should().Contain("not this store");
        foreign.Files().Should().Equal(before);
    }

    [Test]
    public async Task A_backup_taken_while_a_writer_uploads_overwrites_and_deletes_holds_one_consistent_moment()
    {
        await using var test = await TestStore.OpenAsync();
        using var target = new TempFolder("backup");
        await test.Store.CreateContainerAsync("live");

        // Op i is one commit: upload n{i}, overwrite "hot" with version i, or delete an earlier n. Replaying ops 0..k gives the
        // state after op k; the backup must equal one of those states exactly.
        static byte[] Content(int i) => Streams.Bytes(1 + ((i * 7919) % (3 * TestStore.ChunkSize)), seed: i);
        static void Apply(Dictionary<string, string> state, int i)
        {
            switch (i % 3)
            {
                case 0: state[$"n{i}"] = Streams.Sha256(Content(i)); break;
                case 1: state["hot"] = Streams.Sha256(Content(i)); break;
                default: state.Remove($"n{i - 5}"); break;
            }
        }

        using var stop = new CancellationTokenSource();
        var done = 0;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested || i < 30; i++)
            {
                switch (i % 3)
                {
                    case 0: await test.Store.UploadBytesAsync("live", $"n{i}", Content(i)); break;
                    case 1: await test.Store.UploadBytesAsync("live", "hot", Content(i)); break;
                    default: await test.Store.DeleteIfExistsAsync("live", $"n{i - 5}"); break;
                }

                Volatile.Write(ref done, i + 1);
            }
        });

        while (Volatile.Read(ref done) < 10) await Task.Yield();
        var report = await test.Store.BackupAsync(target.Path);
        var second = await test.Store.BackupAsync(target.Path);
        await stop.CancelAsync();
        await writer;
        second.Incremental.Should().BeTrue();
        report.Blobs.Should().BePositive();

        await using var backup = await OpenBackupAsync(target.Path);
        (await backup.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        var backedUp = await ContentsAsync(backup, "live");
        var model = new Dictionary<string, string>(StringComparer.Ordinal);
        var matched = false;
        for (var k = 0; k <= Volatile.Read(ref done) && !matched; k++)
        {
            if (k > 0) Apply(model, k - 1);
            matched = model.Count == backedUp.Count && model.All(kv => backedUp.TryGetValue(kv.Key, out var sha) && sha == kv.Value);
        }

        matched.Should().BeTrue("the backup holds the blobs committed before one moment, no more and no less");
    }
}
