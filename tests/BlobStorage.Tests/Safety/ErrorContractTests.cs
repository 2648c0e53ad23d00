using BlobStorage.Abstractions;
using BlobStorage.Tests.Faults;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Safety;

/// <summary>
/// Every failure, I/O included, leaves the store as a <see cref="BlobStorageException"/> with a code and the
/// operating system's exception inside: a full disk is InsufficientStorage, a refused file AccessDenied, a
/// failing disk IOError. The failed call changes nothing, and a check of the store reports what it cannot
/// read and goes on.
/// </summary>
public class ErrorContractTests
{
    private const string Container = "typed";
    private const int Chunk = FaultyStore.ChunkSize;

    private static void NoInline(BlobStorageOptions o) => o.InlineThreshold = 0;

    [Test]
    public async Task A_full_disk_during_an_upload_is_InsufficientStorage_and_changes_nothing()
    {
        await using var h = await FaultyStore.OpenAsync(NoInline);
        await h.Store.CreateContainerAsync(Container);
        var before = await h.Store.UploadBytesAsync(Container, "x", Streams.Bytes(Chunk + 1, seed: 1));

        h.Files.FailAt(2, FileOp.Write, persistent: true, flavor: FaultFlavor.DiskFull);
        var upload = () => h.Store.UploadBytesAsync(Container, "x", Streams.Bytes(3 * Chunk, seed: 2));
        var error = (await upload.Should().ThrowAsync<BlobStorageException>()).Which;
        error.ErrorCode.Should().Be(BlobErrorCode.InsufficientStorage);
        error.InnerException.Should().BeOfType<InjectedIOException>();
        error.Message.Should().Contain("disk is full");

        h.Files.ClearFaults();
        (await h.Store.GetPropertiesAsync(Container, "x")).ETag.Should().Be(before.ETag);
        (await h.Store.DownloadBytesAsync(Container, "x")).Should().Equal(Streams.Bytes(Chunk + 1, seed: 1));
    }

    [Test]
    public async Task A_full_disk_during_a_part_upload_is_InsufficientStorage()
    {
        await using var h = await FaultyStore.OpenAsync(o =>
        {
            NoInline(o);
            o.MultipartMinimumPartSize = Chunk;
        });
        await h.Store.CreateContainerAsync(Container);
        var id = await h.Store.StartMultipartUploadAsync(Container, "m");
        h.Files.FailAt(1, FileOp.Create, persistent: true, flavor: FaultFlavor.DiskFull);
        var part = () => h.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(Chunk, seed: 3)));
        var error = (await part.Should().ThrowAsync<BlobStorageException>()).Which;
        error.ErrorCode.Should().Be(BlobErrorCode.InsufficientStorage);
        error.InnerException.Should().BeOfType<InjectedIOException>();

        h.Files.ClearFaults();
        (await h.Store.ListPartsAsync(id)).Parts.Should().BeEmpty("the failed part changed nothing");
        var retried = await h.Store.UploadPartAsync(id, 1, new MemoryStream(Streams.Bytes(Chunk, seed: 3)));
        retried.Size.Should().Be(Chunk);
    }

    [Test]
    public async Task A_chunk_the_store_may_not_open_is_AccessDenied_in_the_download_and_a_problem_for_the_check()
    {
        await using var h = await FaultyStore.OpenAsync(NoInline);
        await h.Store.CreateContainerAsync(Container);
        var a = Streams.Bytes(3 * Chunk, seed: 4);
        var b = Streams.Bytes(2 * Chunk, seed: 5);
        await h.Store.UploadBytesAsync(Container, "a", a);
        await h.Store.UploadBytesAsync(Container, "b", b);
        var shut = ChunkNames.Of(a, Chunk)[1].Id.ToString();
        h.Files.BeforeOperation = (op, path) =>
        {
            if (op == FileOp.Open && path.EndsWith(shut, StringComparison.Ordinal)) throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        };

        await using (var download = await h.Store.DownloadAsync(Container, "a"))
        {
            var (read, failure) = await Facade.FacadeTestKit.ReadUntilFailureAsync(download.Content);
            failure.Should().BeOfType<BlobStorageException>().Which.ErrorCode.Should().Be(BlobErrorCode.AccessDenied);
            failure!.InnerException.Should().BeOfType<UnauthorizedAccessException>();
            read.Should().Equal(a.AsSpan(0, read.Length).ToArray(), "nothing wrong is served before the failure");
            read.Length.Should().BeLessThanOrEqualTo(Chunk);
        }

        (await h.Store.DownloadBytesAsync(Container, "b")).Should().Equal(b);
        var report = await h.Store.VerifyAsync(verifyContent: true);
        report.BlobsChecked.Should().Be(2, "the check goes on past a chunk it cannot read");
        report.MissingChunks.Should().ContainSingle().Which.Reason.Should().Contain("Access was denied");
        report.MissingChunks[0].Name.Should().Be("a");
    }

    [Test]
    public async Task A_folder_in_the_place_of_a_chunk_file_is_a_typed_error_and_a_problem_for_the_check()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync(Container);
        var a = Streams.Bytes(2 * TestStore.ChunkSize, seed: 6);
        await t.Store.UploadBytesAsync(Container, "a", a);
        await t.Store.UploadBytesAsync(Container, "b", Streams.Bytes(TestStore.ChunkSize, seed: 7));
        var path = Facade.FacadeTestKit.ChunkPath(t.RootPath, ChunkNames.Of(a, TestStore.ChunkSize)[0].Id.ToString());
        File.Delete(path);
        Directory.CreateDirectory(path);

        var download = () => t.Store.DownloadBytesAsync(Container, "a");
        var error = (await download.Should().ThrowAsync<BlobStorageException>()).Which;
        error.ErrorCode.Should().BeOneOf(BlobErrorCode.AccessDenied, BlobErrorCode.IOError, BlobErrorCode.DataCorruption);
        var deep = await t.Store.VerifyAsync(verifyContent: true);
        deep.BlobsChecked.Should().Be(2);
        deep.MissingChunks.Should().ContainSingle().Which.Name.Should().Be("a");
        var shallow = await t.Store.VerifyAsync();
        shallow.MissingChunks.Should().ContainSingle().Which.Name.Should().Be("a");
        (await t.Store.DownloadBytesAsync(Container, "b")).Should().Equal(Streams.Bytes(TestStore.ChunkSize, seed: 7));
    }

    [Test]
    public async Task A_shard_folder_that_cannot_be_listed_does_not_keep_the_store_closed()
    {
        await using var h = await FaultyStore.OpenAsync(NoInline);
        await h.Store.CreateContainerAsync(Container);
        var a = Streams.Bytes(Chunk, seed: 8);
        await h.Store.UploadBytesAsync(Container, "a", a);
        await h.CloseAsync();
        var shard = Path.Combine(h.ChunkRoot, "00");
        h.Files.BeforeOperation = (op, path) =>
        {
            if (op == FileOp.Enumerate && path == shard) throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        };

        await h.OpenOverFaultsAsync();
        (await h.Store.DownloadBytesAsync(Container, "a")).Should().Equal(a);
        var check = () => h.Store.VerifyAsync();
        var error = (await check.Should().ThrowAsync<BlobStorageException>()).Which;
        error.ErrorCode.Should().Be(BlobErrorCode.AccessDenied);
        error.Message.Should().Contain(shard);
        h.Files.BeforeOperation = null;
        (await h.Store.VerifyAsync()).IsClean.Should().BeTrue();
    }
}
