using System.IO.Pipelines;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions.Execution;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class DisposalTests
{
    private static IEnumerable<(string Call, Func<IBlobStore, Task> Run)> Calls()
    {
        yield return ("CreateContainerAsync", s => s.CreateContainerAsync("other"));
        yield return ("GetContainerAsync", s => s.GetContainerAsync("data"));
        yield return ("ListContainersAsync", s => s.AllContainersAsync());
        yield return ("DeleteContainerAsync", s => s.DeleteContainerAsync("data"));
        yield return ("UploadAsync(Stream)", s => s.UploadBytesAsync("data", "new", [1]));
        yield return ("UploadAsync(PipeReader)", s => s.UploadAsync("data", "new", PipeReader.Create(new MemoryStream([1]))));
        yield return ("DownloadAsync", s => s.DownloadAsync("data", "blob"));
        yield return ("GetPropertiesAsync", s => s.GetPropertiesAsync("data", "blob"));
        yield return ("DeleteAsync", s => s.DeleteAsync("data", "blob"));
        yield return ("ListAsync", s => s.ListAsync("data"));
        yield return ("ListAllAsync", s => s.AllNamesAsync("data"));
        yield return ("UpdateMetadataAsync", s => s.UpdateMetadataAsync("data", "blob", new BlobMetadataUpdate { Tags = FacadeTestKit.Change(("a", "b")) }));
        yield return ("CopyAsync", s => s.CopyAsync("data", "blob", "data", "copy"));
        yield return ("GetStatisticsAsync", s => s.GetStatisticsAsync());
        yield return ("VerifyAsync", s => s.VerifyAsync());
        yield return ("RunMaintenanceAsync", s => s.RunMaintenanceAsync());
    }

    [Test]
    public async Task Every_call_after_DisposeAsync_throws_ObjectDisposedException()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1, 2, 3]);

        await t.Store.DisposeAsync();

        using var scope = new AssertionScope();
        foreach (var (call, run) in Calls())
        {
            await FluentActions.Awaiting(() => run(t.Store)).Should().ThrowAsync<ObjectDisposedException>(call);
        }
    }

    [Test]
    public async Task DisposeAsync_twice_is_fine()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        await t.Store.DisposeAsync();
        await t.Store.DisposeAsync();
        await FluentActions.Awaiting(async () => await t.Store.DisposeAsync()).Should().NotThrowAsync();
    }

    [Test]
    public async Task Disposing_a_store_that_was_never_used_is_fine()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.DisposeAsync();
        await FluentActions.Awaiting(() => t.Store.GetStatisticsAsync()).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Test]
    public async Task Disposing_flushes_access_counts_and_releases_the_folder()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1, 2, 3]);
        await t.Store.DownloadBytesAsync("data", "blob");
        await t.Store.DisposeAsync();

        await using var other = await new BlobStoreBuilder(t.RootPath).Configure(o => o.ChunkSize = TestStore.ChunkSize).OpenAsync();

        (await other.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(1);
        (await other.DownloadBytesAsync("data", "blob")).Should().Equal(1, 2, 3);
    }

    [Test]
    public async Task Disposing_the_store_with_a_download_open_does_not_hang()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(5 * TestStore.ChunkSize));
        var download = await t.Store.DownloadAsync("data", "blob");

        // Disposing the store must not wait for a reader that never reads; the timeout only guards against a hang.
        await FluentActions.Awaiting(() => t.Store.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20))).Should().NotThrowAsync();
        await download.DisposeAsync();
    }
}
