using System.IO.Pipelines;
using System.Security.Cryptography;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using FluentAssertions.Execution;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class UploadDownloadTests
{
    private const int Chunk = TestStore.ChunkSize;
    private const int LargeChunk = 1024 * 1024;

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(1000)]
    [TestCase(Chunk - 1)]
    [TestCase(Chunk)]
    [TestCase(Chunk + 1)]
    [TestCase(2 * Chunk)]
    [TestCase(3 * Chunk + 17)]
    public async Task Round_trips_blobs_of_every_size(int size)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(size, seed: size);

        var uploaded = await t.Store.UploadBytesAsync("data", "blob", content);

        uploaded.Size.Should().Be(size);
        uploaded.ContentHash.Should().Be(Streams.Sha256(content));
        uploaded.ContentHash.Should().MatchRegex("^[0-9a-f]{64}$");
        await using var download = await t.Store.DownloadAsync("data", "blob");
        download.Offset.Should().Be(0);
        download.Length.Should().Be(size);
        download.Content.Length.Should().Be(size);
        download.Properties.Size.Should().Be(size);
        download.Properties.ContentHash.Should().Be(uploaded.ContentHash);
        (await Streams.ReadAllAsync(download.Content)).Should().Equal(content);
        (await t.Store.GetPropertiesAsync("data", "blob")).Size.Should().Be(size);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
    }

    [TestCase(300_000)]
    [TestCase(LargeChunk)]
    [TestCase(LargeChunk + 1)]
    [TestCase(3 * LargeChunk - 5)]
    public async Task Hashes_and_chunk_files_hold_when_chunks_span_many_slices_and_the_stream_trickles(int size)
    {
        // Chunks of 1 MiB are read, hashed, checksummed and written in slices; reads of odd sizes cross every slice boundary.
        await using var t = await TestStore.OpenAsync(o => o.ChunkSize = LargeChunk);
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(size, seed: size);

        var uploaded = await t.Store.UploadAsync("data", "blob", new TricklingStream(content));

        uploaded.ContentHash.Should().Be(Streams.Sha256(content));
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(content);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount((size + LargeChunk - 1) / LargeChunk);
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue("every chunk file carries its SHA-256 name and the checksum of its bytes");
    }

    [Test]
    public async Task Empty_blob_has_the_SHA256_of_nothing_and_stores_no_chunk()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        var uploaded = await t.Store.UploadBytesAsync("data", "empty", []);

        uploaded.ContentHash.Should().Be("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        (await t.Store.DownloadBytesAsync("data", "empty")).Should().BeEmpty();
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
        (await t.Store.GetStatisticsAsync()).StoredBytes.Should().Be(0);
    }

    [Test]
    public async Task Chunks_are_stored_by_content_and_cut_at_the_chunk_size()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(2 * Chunk + 5, seed: 9);

        await t.Store.UploadBytesAsync("data", "blob", content);

        var expected = ChunkNames.Of(content, Chunk)
            .Select(chunk => FacadeTestKit.ChunkPath(t.RootPath, chunk.Id.ToString()))
            .Order(StringComparer.Ordinal);
        FacadeTestKit.ChunkFiles(t.RootPath).Should().Equal(expected);
    }

    [Test]
    public async Task Large_non_seekable_stream_round_trips_with_the_right_hash()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        const long size = 7L * Chunk + 12345;
        string expectedHash;
        using (var sha = SHA256.Create())
        {
            expectedHash = Convert.ToHexStringLower(await sha.ComputeHashAsync(new GeneratedStream(size, seed: 42)));
        }

        var uploaded = await t.Store.UploadAsync("data", "generated", new GeneratedStream(size, seed: 42));

        uploaded.Size.Should().Be(size);
        uploaded.ContentHash.Should().Be(expectedHash);
        await using var download = await t.Store.DownloadAsync("data", "generated");
        using var sha2 = SHA256.Create();
        Convert.ToHexStringLower(await sha2.ComputeHashAsync(download.Content)).Should().Be(expectedHash);
    }

    [Test]
    public async Task Properties_carry_defaults_the_clock_and_what_was_given()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("plain");
        await t.Store.CreateContainerAsync("cold", new ContainerOptions { DefaultStorageClass = StorageClass.InfrequentAccess });
        var now = t.Time.GetUtcNow();

        var plain = await t.Store.UploadBytesAsync("plain", "a", [1, 2, 3]);
        plain.Container.Should().Be("plain");
        plain.Name.Should().Be("a");
        plain.ContentType.Should().Be("application/octet-stream");
        plain.StorageClass.Should().Be(StorageClass.Standard);
        plain.CreatedOn.Should().Be(now);
        plain.LastModified.Should().Be(now);
        plain.AccessCount.Should().Be(0);
        plain.LastAccessedOn.Should().BeNull();
        plain.Tags.Should().BeEmpty();
        plain.Metadata.Should().BeEmpty();
        plain.ETag.Should().MatchRegex("^\".+\"$", "an ETag is quoted as in HTTP");
        plain.VersionId.Should().NotBeNullOrEmpty();

        var inherited = await t.Store.UploadBytesAsync("cold", "b", [1]);
        inherited.StorageClass.Should().Be(StorageClass.InfrequentAccess, "a blob takes its container's default storage class");

        var options = new BlobUploadOptions
        {
            ContentType = "text/plain; charset=utf-8",
            StorageClass = StorageClass.Archive,
            Tags = FacadeTestKit.Map(("project", "alpha"), ("tier", "gold")),
            Metadata = FacadeTestKit.Map(("Owner", "ann"), ("_x1", "")),
        };
        var custom = await t.Store.UploadBytesAsync("cold", "c", [1], options);
        custom.ContentType.Should().Be("text/plain; charset=utf-8");
        custom.StorageClass.Should().Be(StorageClass.Archive);
        custom.Tags.Should().BeEquivalentTo(options.Tags);
        custom.Metadata.Should().BeEquivalentTo(options.Metadata);

        (await t.Store.GetPropertiesAsync("plain", "a")).Should().BeEquivalentTo(plain);
        (await t.Store.GetPropertiesAsync("cold", "b")).Should().BeEquivalentTo(inherited);
        (await t.Store.GetPropertiesAsync("cold", "c")).Should().BeEquivalentTo(custom);
        await using var download = await t.Store.DownloadAsync("cold", "c");
        download.Properties.Should().BeEquivalentTo(custom, o => o.Excluding(p => p.AccessCount).Excluding(p => p.LastAccessedOn));
    }

    [Test]
    public async Task Overwrite_replaces_content_and_changes_ETag_and_version_but_keeps_CreatedOn()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var created = t.Time.GetUtcNow();
        var first = await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(100, seed: 1), new BlobUploadOptions { ContentType = "a/b", Tags = FacadeTestKit.Map(("k", "v")) });
        t.Time.Advance(TimeSpan.FromMinutes(3));
        var second = Streams.Bytes(Chunk + 100, seed: 2);

        var over = await t.Store.UploadBytesAsync("data", "blob", second);

        over.ETag.Should().NotBe(first.ETag);
        over.ETag.Should().MatchRegex("^\".+\"$");
        over.VersionId.Should().NotBe(first.VersionId);
        over.CreatedOn.Should().Be(created);
        over.LastModified.Should().Be(created + TimeSpan.FromMinutes(3));
        over.ContentType.Should().Be("application/octet-stream", "an overwrite replaces the properties too");
        over.Tags.Should().BeEmpty();
        over.Size.Should().Be(second.Length);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(second);

        // Uploading the same bytes again is still a new version.
        var again = await t.Store.UploadBytesAsync("data", "blob", second);
        again.ETag.Should().NotBe(over.ETag);
        again.VersionId.Should().NotBe(over.VersionId);
        again.ContentHash.Should().Be(over.ContentHash);

        var stats = await t.Store.GetStatisticsAsync();
        stats.TotalBlobs.Should().Be(1);
        stats.TotalBytes.Should().Be(second.Length);
    }

    [Test]
    public async Task Uploads_from_a_PipeReader()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(2 * Chunk + 333, seed: 5);

        var reader = PipeReader.Create(new MemoryStream(content));
        var uploaded = await t.Store.UploadAsync("data", "piped", reader, new BlobUploadOptions { ContentType = "x/y" });

        uploaded.Size.Should().Be(content.Length);
        uploaded.ContentHash.Should().Be(Streams.Sha256(content));
        uploaded.ContentType.Should().Be("x/y");
        (await t.Store.DownloadBytesAsync("data", "piped")).Should().Equal(content);
    }

    [Test]
    public async Task Uploads_from_a_pipe_written_in_small_pieces_while_it_is_read()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(3 * Chunk + 1, seed: 6);
        var pipe = new Pipe();
        var writer = Task.Run(async () =>
        {
            for (var at = 0; at < content.Length; at += 1000)
            {
                await pipe.Writer.WriteAsync(content.AsMemory(at, Math.Min(1000, content.Length - at)));
            }

            await pipe.Writer.CompleteAsync();
        });

        var uploaded = await t.Store.UploadAsync("data", "piped", pipe.Reader);
        await writer;

        uploaded.ContentHash.Should().Be(Streams.Sha256(content));
        (await t.Store.DownloadBytesAsync("data", "piped")).Should().Equal(content);
    }

    [Test]
    public async Task Upload_from_an_empty_PipeReader_makes_an_empty_blob()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var uploaded = await t.Store.UploadAsync("data", "empty", PipeReader.Create(new MemoryStream([])));
        uploaded.Size.Should().Be(0);
        (await t.Store.DownloadBytesAsync("data", "empty")).Should().BeEmpty();
    }

    [Test]
    public async Task Progress_reports_increasing_byte_counts_ending_at_the_size()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var progress = new RecordingProgress();
        const int size = 4 * Chunk + 99;

        await t.Store.UploadAsync("data", "tracked", new GeneratedStream(size), new BlobUploadOptions { Progress = progress });

        var values = progress.Values;
        values.Should().NotBeEmpty();
        values.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        values.Should().OnlyContain(v => v > 0 && v <= size);
        values[^1].Should().Be(size);
        values.Count.Should().BeGreaterThan(1, "a multi-chunk upload reports as it goes, not only at the end");
    }

    [Test]
    public async Task Progress_of_a_small_upload_ends_at_its_size()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var progress = new RecordingProgress();

        await t.Store.UploadBytesAsync("data", "small", [1, 2, 3], new BlobUploadOptions { Progress = progress });

        progress.Values.Should().NotBeEmpty();
        progress.Values[^1].Should().Be(3);
    }

    [Test]
    public async Task Expected_content_hash_that_matches_is_stored_in_either_case()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(Chunk + 7, seed: 3);
        var hash = Streams.Sha256(content);

        var lower = await t.Store.UploadBytesAsync("data", "lower", content, new BlobUploadOptions { ExpectedContentHash = hash });
        var upper = await t.Store.UploadBytesAsync("data", "upper", content, new BlobUploadOptions { ExpectedContentHash = hash.ToUpperInvariant() });

        lower.ContentHash.Should().Be(hash);
        upper.ContentHash.Should().Be(hash);
        (await t.Store.DownloadBytesAsync("data", "upper")).Should().Equal(content);
    }

    [TestCase(0)]
    [TestCase(10)]
    [TestCase(2 * Chunk + 3)]
    public async Task Expected_content_hash_mismatch_fails_and_keeps_the_previous_version(int size)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var original = Streams.Bytes(Chunk + 1, seed: 1);
        var before = await t.Store.UploadBytesAsync("data", "blob", original);
        var statsBefore = await t.Store.GetStatisticsAsync();
        var other = Streams.Bytes(size, seed: 2);

        var thrown = await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", other, new BlobUploadOptions { ExpectedContentHash = Streams.Sha256([9, 9, 9]) }))
            .Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.ContentHashMismatch);
        thrown.Which.Message.Should().Contain(Streams.Sha256(other));

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(original);
        var statsAfter = await t.Store.GetStatisticsAsync();
        statsAfter.WriteOperations.Should().Be(statsBefore.WriteOperations);
        statsAfter.BytesWritten.Should().Be(statsBefore.BytesWritten);
        statsAfter.StoredBytes.Should().Be(original.Length);

        // The chunks the failed upload wrote are orphans: a pass removes them once they are older than the grace period.
        await t.Store.RunMaintenanceAsync();
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCountGreaterThanOrEqualTo(2, "an orphan younger than the grace period is kept");
        t.Time.PassGracePeriodOfFiles();
        await t.Store.RunMaintenanceAsync();
        (await t.Store.VerifyAsync(verifyContent: true)).IsClean.Should().BeTrue();
        FacadeTestKit.ChunkFiles(t.RootPath).Should().HaveCount(2);
    }

    [Test]
    public async Task Malformed_expected_content_hash_throws_ArgumentException_before_anything_is_stored()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        string[] malformed =
        [
            "",
            "abc",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
            "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b78",
            " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
        ];

        using (new AssertionScope())
        {
            foreach (var hash in malformed)
            {
                await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [1, 2], new BlobUploadOptions { ExpectedContentHash = hash }))
                    .Should().ThrowAsync<ArgumentException>("hash '{0}'", hash).WithMessage("*64 hexadecimal*", "hash '{0}'", hash);
            }
        }

        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("data", "blob")).Should().ThrowAsync<BlobNotFoundException>();
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
    }

    [Test]
    public async Task A_stream_that_fails_midway_stores_nothing_and_keeps_the_previous_version()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var original = Streams.Bytes(Chunk, seed: 1);
        var before = await t.Store.UploadBytesAsync("data", "blob", original);

        await FluentActions.Awaiting(() => t.Store.UploadAsync("data", "blob", new FailingStream(new GeneratedStream(10L * Chunk), failAfter: (3 * Chunk) + 10)))
            .Should().ThrowAsync<IOException>().WithMessage("*disk on fire*");

        (await t.Store.GetPropertiesAsync("data", "blob")).Should().BeEquivalentTo(before);
        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(original);
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(1);
        t.Time.PassGracePeriodOfFiles();
        await t.Store.RunMaintenanceAsync();
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue("the chunks the failed upload wrote are removed as orphans once past the grace period");
        FacadeTestKit.ChunkFiles(t.RootPath).Should().ContainSingle();
    }

    [Test]
    public async Task A_cancelled_upload_stores_nothing()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        using var cancel = new CancellationTokenSource();
        var progress = new CancellingProgress(cancel, after: 2 * Chunk);

        await FluentActions.Awaiting(() => t.Store.UploadAsync("data", "blob", new GeneratedStream(10L * Chunk), new BlobUploadOptions { Progress = progress }, cancel.Token))
            .Should().ThrowAsync<OperationCanceledException>();

        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("data", "blob")).Should().ThrowAsync<BlobNotFoundException>();
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(0);

        // A chunk whose write began before the cancellation (the first one, when its task started first) is finished and
        // left unreferenced; the collector removes it as an orphan once it is past the grace period, as after any failed upload.
        t.Time.PassGracePeriodOfFiles();
        await t.Store.RunMaintenanceAsync();
        (await t.Store.VerifyAsync()).IsClean.Should().BeTrue();
        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
    }

    [Test]
    public async Task Upload_to_a_missing_container_throws_ContainerNotFound_and_stores_nothing()
    {
        await using var t = await TestStore.OpenAsync();

        var thrown = await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("nowhere", "blob", Streams.Bytes(100)))
            .Should().ThrowAsync<ContainerNotFoundException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.ContainerNotFound);
        await FluentActions.Awaiting(() => t.Store.UploadAsync("nowhere", "blob", PipeReader.Create(new MemoryStream([1]))))
            .Should().ThrowAsync<ContainerNotFoundException>();

        FacadeTestKit.ChunkFiles(t.RootPath).Should().BeEmpty();
        (await t.Store.GetStatisticsAsync()).WriteOperations.Should().Be(0);
    }

    [Test]
    public async Task Download_and_properties_of_missing_blobs_and_containers_throw_the_right_not_found()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        var blob = await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "missing")).Should().ThrowAsync<BlobNotFoundException>();
        blob.Which.ErrorCode.Should().Be(BlobErrorCode.BlobNotFound);
        blob.Which.Container.Should().Be("data");
        blob.Which.Name.Should().Be("missing");
        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("data", "missing")).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.DeleteAsync("data", "missing")).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("nope", "missing")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("nope", "missing")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.DeleteAsync("nope", "missing")).Should().ThrowAsync<ContainerNotFoundException>();

        var stats = await t.Store.GetStatisticsAsync();
        stats.ReadOperations.Should().Be(0);
        stats.DeleteOperations.Should().Be(0);
    }

    [Test]
    public async Task Delete_removes_the_blob_and_a_second_delete_throws_BlobNotFound()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", [1, 2, 3]);
        await t.Store.UploadBytesAsync("data", "other", [4]);

        await t.Store.DeleteAsync("data", "blob");

        await FluentActions.Awaiting(() => t.Store.GetPropertiesAsync("data", "blob")).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.DownloadAsync("data", "blob")).Should().ThrowAsync<BlobNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.DeleteAsync("data", "blob")).Should().ThrowAsync<BlobNotFoundException>();
        (await t.Store.AllNamesAsync("data")).Should().Equal("other");
        var stats = await t.Store.GetStatisticsAsync();
        stats.DeleteOperations.Should().Be(1);
        stats.TotalBlobs.Should().Be(1);
    }

    [Test]
    public async Task Bad_upload_arguments_throw_ArgumentException()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");

        await FluentActions.Awaiting(() => t.Store.UploadAsync("data", "blob", (Stream)null!)).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(() => t.Store.UploadAsync("data", "blob", (PipeReader)null!)).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(() => t.Store.UploadAsync("data", "blob", new WriteOnlyStream())).Should().ThrowAsync<ArgumentException>().WithMessage("*cannot be read*");
        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { StorageClass = (StorageClass)99 }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*StorageClass*");
        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { ContentType = "" }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*content type*");
        await FluentActions.Awaiting(() => t.Store.UploadBytesAsync("data", "blob", [1], new BlobUploadOptions { ContentType = "text/plain\r\nX-Evil: 1" }))
            .Should().ThrowAsync<ArgumentException>().WithMessage("*content type*");

        (await t.Store.AllNamesAsync("data")).Should().BeEmpty();
    }

    [Test]
    public async Task Download_stream_reads_forward_only()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        await t.Store.UploadBytesAsync("data", "blob", Streams.Bytes(2 * Chunk));

        await using var download = await t.Store.DownloadAsync("data", "blob");
        download.Content.CanRead.Should().BeTrue();
        download.Content.CanWrite.Should().BeFalse();
        download.Content.CanSeek.Should().BeFalse();
        FluentActions.Invoking(() => download.Content.Seek(0, SeekOrigin.Begin)).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => download.Content.Write([1], 0, 1)).Should().Throw<NotSupportedException>();
    }

    [Test]
    public async Task Download_stream_can_be_read_synchronously_in_small_pieces()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(2 * Chunk + 11, seed: 77);
        await t.Store.UploadBytesAsync("data", "blob", content);

        await using var download = await t.Store.DownloadAsync("data", "blob");
        var read = new MemoryStream();
        var buffer = new byte[777];
        int n;
        while ((n = download.Content.Read(buffer, 0, buffer.Length)) > 0) read.Write(buffer, 0, n);

        read.ToArray().Should().Equal(content);
        download.Content.Position.Should().Be(content.Length);
    }

    [Test]
    public async Task Disposing_a_download_before_reading_it_is_fine()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("data");
        var content = Streams.Bytes(5 * Chunk, seed: 12);
        await t.Store.UploadBytesAsync("data", "blob", content);

        for (var i = 0; i < 5; i++)
        {
            var download = await t.Store.DownloadAsync("data", "blob");
            await download.DisposeAsync();
        }

        (await t.Store.DownloadBytesAsync("data", "blob")).Should().Equal(content);
    }

    private sealed class WriteOnlyStream : MemoryStream
    {
        public override bool CanRead => false;
    }

    /// <summary>Reads from an inner stream and throws an IOException once a given number of bytes has passed.</summary>
    private sealed class FailingStream(Stream inner, long failAfter) : ForwardStream
    {
        public override int Read(Span<byte> buffer)
        {
            if (Consumed >= failAfter) throw new IOException("The disk on fire.");
            var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, failAfter - Consumed)]);
            Consumed += read;
            return read;
        }
    }

    /// <summary>Cancels a token once the upload has reported a given number of bytes.</summary>
    private sealed class CancellingProgress(CancellationTokenSource cancel, long after) : IProgress<long>
    {
        public void Report(long value)
        {
            if (value >= after) cancel.Cancel();
        }
    }

    /// <summary>Hands out its bytes in reads of irregular sizes, from 1 byte to 200,000.</summary>
    private sealed class TricklingStream(byte[] content) : ForwardStream
    {
        private static readonly int[] Sizes = [1, 7, 4096, 131_071, 200_000, 3, 65_537];
        private int _reads;

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(Math.Min(buffer.Length, Sizes[_reads++ % Sizes.Length]), content.Length - Consumed);
            content.AsSpan((int)Consumed, n).CopyTo(buffer);
            Consumed += n;
            return n;
        }
    }

    /// <summary>A stream read forward only; a subclass says what <see cref="Read(Span{byte})"/> returns and counts it in <see cref="Consumed"/>.</summary>
    private abstract class ForwardStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Consumed; set => throw new NotSupportedException(); }

        /// <summary>The bytes read so far.</summary>
        protected long Consumed { get; set; }

        public abstract override int Read(Span<byte> buffer);

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
