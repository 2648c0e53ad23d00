using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Tests.Chunks;

/// <summary>How many chunk files a store keeps open: an eighth of the descriptor limit, never fewer than 256 nor more than 4,096.</summary>
public sealed class DescriptorLimitTests
{
    [TestCase(null, 256, Description = "unknown (not Linux)")]
    [TestCase(1024UL, 256)]
    [TestCase(4096UL, 512)]
    [TestCase(20_000UL, 2500)]
    [TestCase(1_048_576UL, 4096)]
    [TestCase(ulong.MaxValue, 4096, Description = "RLIM_INFINITY")]
    public void An_eighth_of_the_limit_within_bounds(ulong? limit, int expected) =>
        DescriptorLimit.KeptOpenFor(limit).Should().Be(expected);

    [Test]
    public void On_Linux_it_follows_the_process_limit()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("The limit is read on Linux only.");
        var line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        var limit = soft == "unlimited" ? ulong.MaxValue : ulong.Parse(soft, System.Globalization.CultureInfo.InvariantCulture);
        DescriptorLimit.ChunkFilesKeptOpen.Should().Be(DescriptorLimit.KeptOpenFor(limit));
    }
}
