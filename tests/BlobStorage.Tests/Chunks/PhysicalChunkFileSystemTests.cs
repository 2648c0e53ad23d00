using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Tests.Chunks;

/// <summary>
/// How the real disk opens a file for reading: on Linux with one open and one fstat and no advisory lock
/// (<see cref="ReadOnlyOpen"/>), and with the errors .NET gives wherever that way cannot be taken.
/// </summary>
public sealed class PhysicalChunkFileSystemTests
{
    private string _folder = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = Path.Combine(Path.GetTempPath(), "blobstorage-physical-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void A_file_opened_for_reading_gives_its_length_and_bytes_and_whether_it_still_has_a_name()
    {
        var path = Path.Combine(_folder, "chunk");
        var content = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, content);

        using var file = PhysicalChunkFileSystem.Instance.OpenRead(path);
        file.Length.Should().Be(content.Length);
        var read = new byte[content.Length + 10];
        file.Read(read, 0).Should().Be(content.Length);
        read.AsSpan(0, content.Length).SequenceEqual(content).Should().BeTrue();

        if (!FileLinks.Supported) return;
        file.IsLinked().Should().BeTrue();
        file.IsLinked().Should().BeTrue("asked again, the answer comes from the file as it is now");
        File.Delete(path);
        file.IsLinked().Should().BeFalse("the open handle outlives the file's name, and says so");
    }

    [Test]
    public void A_file_open_for_reading_holds_no_lock_that_would_keep_an_exclusive_open_out()
    {
        if (!OperatingSystem.IsLinux() || !FileLinks.Supported) Assert.Ignore("The open without a lock is taken on Linux on x64 and Arm64 only.");
        var path = Path.Combine(_folder, "chunk");
        File.WriteAllBytes(path, [1, 2, 3]);

        using var file = PhysicalChunkFileSystem.Instance.OpenRead(path);

        // .NET's own open for reading takes a shared flock, which makes this exclusive open fail with "used by another process".
        using var exclusive = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        exclusive.IsInvalid.Should().BeFalse();
    }

    [Test]
    public void A_missing_file_is_reported_as_missing()
    {
        var missing = () => PhysicalChunkFileSystem.Instance.OpenRead(Path.Combine(_folder, "none"));
        missing.Should().Throw<FileNotFoundException>();

        var missingFolder = () => PhysicalChunkFileSystem.Instance.OpenRead(Path.Combine(_folder, "no-folder", "none"));
        missingFolder.Should().Throw<FileNotFoundException>();
    }

    [Test]
    public void A_folder_in_a_files_place_is_refused_as_net_refuses_it()
    {
        var path = Path.Combine(_folder, "folder");
        Directory.CreateDirectory(path);

        var open = () => PhysicalChunkFileSystem.Instance.OpenRead(path);
        open.Should().Throw<UnauthorizedAccessException>();
    }
}
