using BlobStorage.Abstractions;

namespace BlobStorage.CrashHost;

/// <summary>
/// <c>CrashHost permissions &lt;root&gt;</c>: what the store does when the operating system shuts it out of its own
/// files. Root ignores file permissions, so the tests run this as an ordinary user (as root they start it
/// under another user id). Each check prints one line, <c>&lt;check&gt;: &lt;outcome&gt;</c>, where the outcome is
/// <c>ok</c>, <c>ok &lt;detail&gt;</c>, <c>typed &lt;ErrorCode&gt; inner=&lt;type&gt;</c> or <c>raw &lt;type&gt;: &lt;message&gt;</c>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class Permissions
{
    private const string Container = "perm";

    public static async Task<int> RunAsync(string root, Report report)
    {
        var a = Content(3 * 64 * 1024 + 5, 1);
        var b = Content(2 * 64 * 1024 + 9, 2);
        await using (var store = await OpenAsync(root))
        {
            await store.CreateContainerAsync(Container);
            await store.UploadAsync(Container, "a", new MemoryStream(a));
            await store.UploadAsync(Container, "b", new MemoryStream(b));
        }

        var chunkOfA = ChunkPath(root, a.AsSpan(0, 64 * 1024));
        var chunkOfB = ChunkPath(root, b.AsSpan(0, 64 * 1024));

        // 1. A chunk file with mode 000: its download and the deep check see AccessDenied; other blobs read on.
        File.SetUnixFileMode(chunkOfA, UnixFileMode.None);
        await using (var store = await OpenAsync(root))
        {
            report.Line("unreadable-chunk download a: " + await OutcomeAsync(() => ReadAsync(store, "a", a)));
            report.Line("unreadable-chunk download b: " + await OutcomeAsync(() => ReadAsync(store, "b", b)));
            report.Line("unreadable-chunk verify: " + await OutcomeAsync(async () =>
            {
                var verification = await store.VerifyAsync(verifyContent: true);
                return $"blobs={verification.BlobsChecked} problems={verification.MissingChunks.Count} {string.Join(" | ", verification.MissingChunks.Select(m => m.Name + ": " + m.Reason))}";
            }));
        }

        File.SetUnixFileMode(chunkOfA, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // 2. A shard folder with mode 000: the store still opens; the chunk in it is AccessDenied; the check is typed.
        var shard = Path.GetDirectoryName(chunkOfB)!;
        File.SetUnixFileMode(shard, UnixFileMode.None);
        try
        {
            IBlobStore? opened = null;
            report.Line("unreadable-shard open: " + await OutcomeAsync(async () =>
            {
                opened = await OpenAsync(root);
                return "";
            }));
            if (opened is not null)
            {
                await using var store = opened;
                report.Line("unreadable-shard download b: " + await OutcomeAsync(() => ReadAsync(store, "b", b)));
                report.Line("unreadable-shard download a: " + await OutcomeAsync(() => ReadAsync(store, "a", a)));
                report.Line("unreadable-shard verify: " + await OutcomeAsync(async () => $"problems={(await store.VerifyAsync(verifyContent: true)).MissingChunks.Count}"));
            }
        }
        finally
        {
            File.SetUnixFileMode(shard, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // 3. A chunk folder the store cannot write into: an upload of new bytes is AccessDenied and changes nothing.
        var chunks = Path.Combine(root, "chunks", ".tmp");
        await using (var store = await OpenAsync(root))
        {
            File.SetUnixFileMode(chunks, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            try
            {
                report.Line("read-only-folder upload: " + await OutcomeAsync(async () => (await store.UploadAsync(Container, "c", new MemoryStream(Content(200_000, 3)))).Size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                report.Line("read-only-folder exists c: " + await OutcomeAsync(async () => (await store.GetPropertiesAsync(Container, "c")).Size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            finally
            {
                File.SetUnixFileMode(chunks, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            report.Line("after download a: " + await OutcomeAsync(() => ReadAsync(store, "a", a)));
            report.Line("after download b: " + await OutcomeAsync(() => ReadAsync(store, "b", b)));
            report.Line("after verify: " + await OutcomeAsync(async () => (await store.VerifyAsync(verifyContent: true)).IsClean ? "clean" : "not clean"));
        }

        report.Line("DONE");
        return 0;
    }

    private static Task<IBlobStore> OpenAsync(string root) =>
        new BlobStoreBuilder(root)
            .Configure(o =>
            {
                o.ChunkSize = 64 * 1024;
                o.InlineThreshold = 0;
                o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
                o.ReservedDiskSpace = 0;
            })
            .OpenAsync();

    private static async Task<string> ReadAsync(IBlobStore store, string name, byte[] expected)
    {
        await using var download = await store.DownloadAsync(Container, name);
        using var copy = new MemoryStream();
        await download.Content.CopyToAsync(copy);
        return copy.ToArray().AsSpan().SequenceEqual(expected) ? "bytes-match" : "bytes-differ";
    }

    private static async Task<string> OutcomeAsync(Func<Task<string>> check)
    {
        try
        {
            var detail = await check();
            return detail.Length == 0 ? "ok" : "ok " + detail;
        }
        catch (BlobStorageException ex)
        {
            return $"typed {ex.ErrorCode} inner={ex.InnerException?.GetType().Name ?? "none"}";
        }
        catch (Exception ex)
        {
            return $"raw {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}";
        }
    }

    /// <summary>The file of a chunk of a blob of several chunks, named by its BLAKE3 hash (see ChunkId).</summary>
    private static string ChunkPath(string root, ReadOnlySpan<byte> chunk)
    {
        var id = Blake3.Hasher.Hash(chunk).ToString();
        return Path.Combine(root, "chunks", id[..2], id);
    }

    private static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
