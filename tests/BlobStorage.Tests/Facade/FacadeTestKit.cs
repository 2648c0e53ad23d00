using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Facade;

/// <summary>Small helpers shared by the facade, naming and DI tests.</summary>
internal static class FacadeTestKit
{
    /// <summary>Every chunk file of the store (under RootPath/chunks), skipping the lock file and the temporary folder.</summary>
    public static IReadOnlyList<string> ChunkFiles(string rootPath)
    {
        var chunks = Path.Combine(rootPath, "chunks");
        if (!Directory.Exists(chunks)) return [];
        return
        [
            .. Directory.EnumerateFiles(chunks, "*", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(f) is not ".lock" and not ".store-id")
                .Where(f => !Path.GetRelativePath(chunks, f).StartsWith(".tmp", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal),
        ];
    }

    /// <summary>The file that holds chunk <paramref name="id"/> (a SHA-256 in lowercase hex).</summary>
    public static string ChunkPath(string rootPath, string id) => Path.Combine(rootPath, "chunks", id[..2], id);

    public static async Task<List<string>> AllNamesAsync(this IBlobStore store, string container, string? prefix = null)
    {
        var names = new List<string>();
        await foreach (var blob in store.ListAllAsync(container, prefix)) names.Add(blob.Name);
        return names;
    }

    public static async Task<List<ContainerProperties>> AllContainersAsync(this IBlobStore store, string? prefix = null)
    {
        var containers = new List<ContainerProperties>();
        await foreach (var container in store.ListContainersAsync(prefix)) containers.Add(container);
        return containers;
    }

    /// <summary>Reads a download to its end or to its first failure, returning what came before the failure.</summary>
    public static async Task<(byte[] Read, Exception? Error)> ReadUntilFailureAsync(Stream stream)
    {
        var read = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0) read.Write(buffer, 0, n);
            return (read.ToArray(), null);
        }
        catch (Exception ex)
        {
            return (read.ToArray(), ex);
        }
    }

    public static Dictionary<string, string> Map(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public static Dictionary<string, string?> Change(params (string Key, string? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public static BlobDownloadOptions When(BlobRequestConditions conditions) => new() { Conditions = conditions };

    public static BlobDownloadOptions Range(BlobRange range) => new() { Range = range };

    public static Task<BlobProperties> UploadTextAsync(this IBlobStore store, string container, string name, string text, BlobUploadOptions? options = null) =>
        store.UploadBytesAsync(container, name, System.Text.Encoding.UTF8.GetBytes(text), options);
}

/// <summary>An <see cref="IProgress{T}"/> that records every report on the reporting thread (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class RecordingProgress : IProgress<long>
{
    private readonly List<long> _values = [];

    public IReadOnlyList<long> Values
    {
        get
        {
            lock (_values) return [.. _values];
        }
    }

    public void Report(long value)
    {
        lock (_values) _values.Add(value);
    }
}
