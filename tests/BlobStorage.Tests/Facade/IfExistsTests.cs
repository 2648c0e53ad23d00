using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class IfExistsTests
{
    [Test]
    public async Task CreateContainerIfNotExists_creates_once_then_returns_null_and_keeps_the_first_options()
    {
        await using var test = await TestStore.OpenAsync();
        var created = await test.Store.CreateContainerIfNotExistsAsync("data", new ContainerOptions { AccessPolicy = AccessPolicy.Public });
        created.Should().NotBeNull();
        created!.Name.Should().Be("data");

        (await test.Store.CreateContainerIfNotExistsAsync("data")).Should().BeNull();
        (await test.Store.GetContainerAsync("data")).AccessPolicy.Should().Be(AccessPolicy.Public);
    }

    [Test]
    public async Task Concurrent_CreateContainerIfNotExists_calls_all_succeed_and_exactly_one_creates()
    {
        await using var test = await TestStore.OpenAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => test.Store.CreateContainerIfNotExistsAsync("race"))));
        results.Count(r => r is not null).Should().Be(1);
        (await test.Store.ContainerExistsAsync("race")).Should().BeTrue();
    }

    [Test]
    public async Task ContainerExists_and_DeleteContainerIfExists_answer_for_present_and_absent_containers()
    {
        await using var test = await TestStore.OpenAsync();
        (await test.Store.ContainerExistsAsync("nothing")).Should().BeFalse();
        (await test.Store.DeleteContainerIfExistsAsync("nothing")).Should().BeFalse();

        await test.Store.CreateContainerAsync("data");
        await test.Store.UploadBytesAsync("data", "a", Streams.Bytes(10));
        await test.Store.Invoking(s => s.DeleteContainerIfExistsAsync("data")).Should().ThrowAsync<ContainerNotEmptyException>();
        (await test.Store.DeleteContainerIfExistsAsync("data", deleteContents: true)).Should().BeTrue();
        (await test.Store.ContainerExistsAsync("data")).Should().BeFalse();
        await test.Store.Invoking(s => s.ContainerExistsAsync("Not_Valid")).Should().ThrowAsync<ArgumentException>();
    }

    [Test]
    public async Task Exists_and_DeleteIfExists_are_false_for_a_missing_blob_or_container_and_keep_conditions()
    {
        await using var test = await TestStore.OpenAsync();
        (await test.Store.ExistsAsync("nothing", "a")).Should().BeFalse();
        (await test.Store.DeleteIfExistsAsync("nothing", "a")).Should().BeFalse();

        await test.Store.CreateContainerAsync("data");
        (await test.Store.ExistsAsync("data", "a")).Should().BeFalse();
        (await test.Store.DeleteIfExistsAsync("data", "a")).Should().BeFalse();

        await test.Store.UploadBytesAsync("data", "a", Streams.Bytes(10));
        (await test.Store.ExistsAsync("data", "a")).Should().BeTrue();
        await test.Store.Invoking(s => s.DeleteIfExistsAsync("data", "a", new BlobRequestConditions { IfMatch = "\"other\"" }))
            .Should().ThrowAsync<PreconditionFailedException>();
        (await test.Store.ExistsAsync("data", "a")).Should().BeTrue();
        (await test.Store.DeleteIfExistsAsync("data", "a")).Should().BeTrue();
        (await test.Store.ExistsAsync("data", "a")).Should().BeFalse();
    }
}
