using System.Text;

namespace BlobStorage.Tests.Tiers;

/// <summary>Content for the tier tests: text that compresses as prose does, and random bytes that do not compress.</summary>
internal static class TierContent
{
    private static readonly string[] Words =
    [
        "the", "store", "keeps", "every", "chunk", "once", "archive", "blob", "container", "reads", "verified", "bytes",
        "lifecycle", "rule", "moves", "old", "data", "to", "colder", "classes", "and", "deletes", "what", "expired", "a",
        "maintenance", "pass", "runs", "on", "its", "own", "timer", "or", "in", "host", "compressed", "at", "rest",
    ];

    /// <summary>Deterministic English-like text of exactly <paramref name="length"/> bytes.</summary>
    public static byte[] Text(int length, int seed = 1)
    {
        var random = new Random(seed);
        var text = new StringBuilder(length + 64);
        while (text.Length < length)
        {
            text.Append(Words[random.Next(Words.Length)]);
            text.Append(random.Next(12) == 0 ? ".\n" : " ");
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    public static byte[] Random(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The first 8 bytes of a file: its format's magic.</summary>
    public static string MagicOf(string path)
    {
        var magic = new byte[8];
        using var file = File.OpenRead(path);
        file.ReadExactly(magic);
        return Encoding.ASCII.GetString(magic);
    }

    public static async Task<byte[]> ReadAllAsync(this IBlobStore store, string container, string name, BlobStorage.Abstractions.BlobRange? range = null)
    {
        var download = await store.DownloadAsync(container, name, new BlobStorage.Abstractions.BlobDownloadOptions { Range = range });
        await using var stream = download.Content;
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
