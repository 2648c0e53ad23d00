using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// Chunks written as they stream (<see cref="IChunkStreamer"/>): the file a draft leaves is byte for byte the file a
/// whole write of the same chunk leaves, whatever length the draft expected and however its bytes were cut; a draft
/// of a chunk already stored, or one dropped, leaves nothing behind; classes compressed at rest are not streamed.
/// </summary>
public sealed class ChunkDraftTests
{
    private const int Block = BlockChunkFormat.DefaultBlockSize;

    [TestCase(1_000_000, 1_000_000, 100_000)]
    [TestCase(3 * Block, 3 * Block, Block)]
    [TestCase(3 * Block, 3 * Block, 7)]
    [TestCase(70_000, 70_000, 1_048_576)]
    [TestCase(1_000_000, 4 * 1024 * 1024, 65_536)]
    [TestCase(1_000_000, 10, 333_333)]
    [TestCase(Block, 2 * Block, 1000)]
    [TestCase(1, 0, 1)]
    public async Task A_streamed_chunk_is_the_same_file_as_one_written_whole(int length, int expected, int slice)
    {
        using var whole = new TempFolder("draft-whole");
        using var streamed = new TempFolder("draft-streamed");
        using var wholeStore = new FileSystemChunkStore(whole.Path);
        using var streamedStore = new FileSystemChunkStore(streamed.Path);
        var content = Streams.Bytes(length, seed: length ^ expected);
        var id = ChunkId.ComputeBlake3(content);

        await wholeStore.WriteAsync(id, content);
        using (var draft = ((IChunkStreamer)streamedStore).Begin(StorageClass.Standard, expected))
        {
            for (var offset = 0; offset < length; offset += slice)
            {
                draft.Append(content.AsMemory(offset, Math.Min(slice, length - offset)));
            }

            draft.Length.Should().Be(length);
            var durable = await draft.CommitAsync(id, CancellationToken.None);
            durable.Should().NotBeNull("the chunk was not stored before");
            await durable!;
        }

        (await File.ReadAllBytesAsync(streamedStore.GetPath(id))).Should().Equal(await File.ReadAllBytesAsync(wholeStore.GetPath(id)));
        var read = new byte[length];
        (await streamedStore.ReadAsync(id, read)).Should().Be(length);
        read.Should().Equal(content);
        TemporaryFiles(streamed).Should().BeEmpty();
    }

    [Test]
    public async Task A_draft_reads_back_what_was_appended()
    {
        using var folder = new TempFolder("draft-readback");
        using var store = new FileSystemChunkStore(folder.Path);
        var content = Streams.Bytes(300_000, seed: 3);
        using var draft = ((IChunkStreamer)store).Begin(StorageClass.Standard, 100_000);
        draft.Append(content.AsMemory(0, 200_000));
        draft.Append(content.AsMemory(200_000));

        var back = new byte[content.Length + 10];
        draft.ReadBack(0, back).Should().Be(content.Length);
        back.AsSpan(0, content.Length).ToArray().Should().Equal(content);
        draft.ReadBack(250_000, back).Should().Be(50_000);
        back.AsSpan(0, 50_000).ToArray().Should().Equal(content.AsSpan(250_000).ToArray());
    }

    [Test]
    public async Task A_draft_of_a_chunk_already_stored_is_dropped_and_the_stored_file_kept()
    {
        using var folder = new TempFolder("draft-dedup");
        using var store = new FileSystemChunkStore(folder.Path);
        var content = Streams.Bytes(200_000, seed: 4);
        var id = ChunkId.ComputeBlake3(content);
        await store.WriteAsync(id, content);
        var before = File.GetLastWriteTimeUtc(store.GetPath(id));
        var stored = await File.ReadAllBytesAsync(store.GetPath(id));

        using var draft = ((IChunkStreamer)store).Begin(StorageClass.Standard, content.Length);
        draft.Append(content);
        (await draft.CommitAsync(id, CancellationToken.None)).Should().BeNull("the chunk is stored durably already");

        TemporaryFiles(folder).Should().BeEmpty();
        (await File.ReadAllBytesAsync(store.GetPath(id))).Should().Equal(stored);
        File.GetLastWriteTimeUtc(store.GetPath(id)).Should().Be(before);
    }

    [Test]
    public void A_draft_dropped_before_it_is_named_leaves_nothing()
    {
        using var folder = new TempFolder("draft-dropped");
        using var store = new FileSystemChunkStore(folder.Path);
        var draft = ((IChunkStreamer)store).Begin(StorageClass.Standard, 100_000);
        draft.Append(Streams.Bytes(50_000, seed: 5));
        TemporaryFiles(folder).Should().ContainSingle();

        draft.Dispose();

        TemporaryFiles(folder).Should().BeEmpty();
        var append = () => draft.Append(new byte[1]);
        append.Should().Throw<ObjectDisposedException>();
    }

    [Test]
    public void Classes_compressed_at_rest_are_written_only_whole()
    {
        using var folder = new TempFolder("draft-classes");
        using var store = new FileSystemChunkStore(folder.Path);
        var streamer = (IChunkStreamer)store;

        streamer.CanStream(StorageClass.Standard).Should().BeTrue();
        streamer.CanStream(StorageClass.InfrequentAccess).Should().BeTrue();
        streamer.CanStream(StorageClass.Archive).Should().BeFalse("archive chunks are compressed by default");
        var begin = () => streamer.Begin(StorageClass.ColdArchive, 10);
        begin.Should().Throw<InvalidOperationException>().WithMessage("*compressed at rest*");
        TemporaryFiles(folder).Should().BeEmpty();
    }

    [Test]
    public void A_store_that_writes_the_first_format_does_not_stream()
    {
        using var folder = new TempFolder("draft-format1");
        using var store = new FileSystemChunkStore(folder.Path, PhysicalChunkFileSystem.Instance, blockSize: 0);

        ((IChunkStreamer)store).CanStream(StorageClass.Standard).Should().BeFalse();
    }

    private static string[] TemporaryFiles(TempFolder folder) => Directory.GetFiles(Path.Combine(folder.Path, FileSystemChunkStore.TempFolderName));
}
