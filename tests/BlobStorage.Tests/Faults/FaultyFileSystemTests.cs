using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Faults;

/// <summary>The fault layer itself: what a power cut keeps and drops, and how faults fire.</summary>
public class FaultyFileSystemTests
{
    private static readonly byte[] Hello = "hello, platter"u8.ToArray();

    [Test]
    public void Flushed_file_renamed_and_directory_flushed_survives()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out var tmp, out var shard);
        WriteFile(fs, Path.Combine(tmp, "t"), Hello, flush: true);
        fs.Move(Path.Combine(tmp, "t"), Path.Combine(shard, "c"));
        fs.FlushDirectory(shard);

        var report = fs.PowerCut(new Random(1), new PowerCutOptions { TornWriteProbability = 0 });

        File.ReadAllBytes(Path.Combine(shard, "c")).Should().Equal(Hello, report.ToString());
        File.Exists(Path.Combine(tmp, "t")).Should().BeFalse("the create in the temporary folder was never made durable");
    }

    [Test]
    public void Rename_without_directory_flush_is_undone()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out var tmp, out var shard);
        WriteFile(fs, Path.Combine(tmp, "t"), Hello, flush: true);
        fs.FlushDirectory(tmp);
        fs.Move(Path.Combine(tmp, "t"), Path.Combine(shard, "c"));

        fs.PowerCut(new Random(1));

        File.Exists(Path.Combine(shard, "c")).Should().BeFalse();
        File.ReadAllBytes(Path.Combine(tmp, "t")).Should().Equal(Hello, "the rename is undone: the file is back under its old name");
    }

    [Test]
    public void Unflushed_bytes_are_dropped_or_torn()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out _, out var shard);
        WriteFile(fs, Path.Combine(shard, "c"), Hello, flush: false);
        fs.FlushDirectory(shard);

        fs.PowerCut(new Random(1), new PowerCutOptions { TornWriteProbability = 0 });
        File.ReadAllBytes(Path.Combine(shard, "c")).Should().BeEmpty();

        fs.PowerOn();
        using (var file = fs.CreateNew(Path.Combine(shard, "d"), 0))
        {
            file.Write([Hello], 0);
        }

        fs.FlushDirectory(shard);
        fs.PowerCut(new Random(3), new PowerCutOptions { TornWriteProbability = 1 });
        var torn = File.ReadAllBytes(Path.Combine(shard, "d"));
        Hello.AsSpan().StartsWith(torn).Should().BeTrue("a torn write keeps a prefix of what was written");
    }

    [Test]
    public void Delete_without_directory_flush_is_undone()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out _, out var shard);
        WriteFile(fs, Path.Combine(shard, "c"), Hello, flush: true);
        fs.FlushDirectory(shard);
        fs.DeleteFile(Path.Combine(shard, "c"));
        File.Exists(Path.Combine(shard, "c")).Should().BeFalse();

        fs.PowerCut(new Random(1));

        File.ReadAllBytes(Path.Combine(shard, "c")).Should().Equal(Hello);
    }

    [Test]
    public void A_failed_flush_loses_the_bytes_even_if_a_later_flush_succeeds()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out _, out var shard);
        using (var file = fs.CreateNew(Path.Combine(shard, "c"), 0))
        {
            file.Write([Hello], 0);
            fs.FailAt(1, FileOp.Flush);
            var first = () => file.Flush();
            first.Should().Throw<IOException>();
            file.Flush();
        }

        fs.FlushDirectory(shard);
        fs.PowerCut(new Random(1), new PowerCutOptions { TornWriteProbability = 0 });

        File.ReadAllBytes(Path.Combine(shard, "c")).Should().Equal(new byte[Hello.Length], "Linux marks the pages clean after a failed fsync: the retry writes nothing");
    }

    [Test]
    public void Ignoring_directory_flushes_loses_every_new_file()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out _, out var shard);
        fs.IgnoreDirectoryFlush = true;
        WriteFile(fs, Path.Combine(shard, "c"), Hello, flush: true);
        fs.FlushDirectory(shard);

        fs.PowerCut(new Random(1));

        File.Exists(Path.Combine(shard, "c")).Should().BeFalse();
    }

    [Test]
    public void Faults_fire_on_the_nth_operation_once_or_from_then_on()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out _, out var shard);
        fs.FailAt(2, FileOp.Create);
        WriteFile(fs, Path.Combine(shard, "a"), Hello, flush: true);
        var second = () => WriteFile(fs, Path.Combine(shard, "b"), Hello, flush: true);
        second.Should().Throw<InjectedIOException>();
        WriteFile(fs, Path.Combine(shard, "c"), Hello, flush: true);

        fs.FailAt(1, FileOp.Write, persistent: true, FaultFlavor.DiskFull);
        for (var i = 0; i < 3; i++)
        {
            var write = () => WriteFile(fs, Path.Combine(shard, "d" + i), Hello, flush: true);
            write.Should().Throw<IOException>().Where(e => e.HResult == unchecked((int)0x80070070) && e.Message.Contains("No space left on device"));
        }

        fs.ClearFaults();
        WriteFile(fs, Path.Combine(shard, "e"), Hello, flush: true);
        fs.FaultsInjected.Should().Be(4);
        fs.OpenHandles.Should().Be(0);
    }

    [Test]
    public void A_power_cut_inside_an_operation_turns_the_machine_off()
    {
        using var folder = new TempFolder("ffs");
        var fs = NewLayer(folder, out _, out var shard);
        WriteFile(fs, Path.Combine(shard, "a"), Hello, flush: true);
        fs.FlushDirectory(shard);
        fs.CutPowerAt(2, new Random(1));
        var write = () => WriteFile(fs, Path.Combine(shard, "b"), Hello, flush: true);
        write.Should().Throw<PowerCutException>();
        fs.IsPoweredOff.Should().BeTrue();
        var later = () => fs.FileExists(Path.Combine(shard, "a"));
        later.Should().Throw<PowerCutException>();
        File.Exists(Path.Combine(shard, "b")).Should().BeFalse();
        File.ReadAllBytes(Path.Combine(shard, "a")).Should().Equal(Hello);
        fs.OpenHandles.Should().Be(0);
    }

    private static FaultyFileSystem NewLayer(TempFolder folder, out string tmp, out string shard)
    {
        var root = Path.Combine(folder.Path, "chunks");
        var fs = new FaultyFileSystem(root);
        tmp = Path.Combine(root, ".tmp");
        shard = Path.Combine(root, "ab");
        fs.CreateDirectory(root);
        fs.CreateDirectory(tmp);
        fs.CreateDirectory(shard);
        fs.MarkDurable();
        return fs;
    }

    private static void WriteFile(FaultyFileSystem fs, string path, byte[] content, bool flush)
    {
        using var file = fs.CreateNew(path, content.Length);
        file.Write([content], 0);
        if (flush) file.Flush();
    }
}
