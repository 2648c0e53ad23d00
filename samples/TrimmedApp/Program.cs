// A trimmed (and AOT-ready) app using the store: .ci/run publishes it with PublishTrimmed and runs it.
using System.Text;
using BlobStorage;

var root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "blobstorage-trimmed-" + Guid.NewGuid().ToString("N"));
try
{
    await using (var store = await new BlobStoreBuilder(root).OpenAsync())
    {
        await store.CreateContainerIfNotExistsAsync("notes");
        await store.UploadAsync("notes", "hello.txt", new MemoryStream(Encoding.UTF8.GetBytes("Hello, trimmed world.")));
        await using var download = await store.DownloadAsync("notes", "hello.txt");
        using var reader = new StreamReader(download.Content);
        Console.WriteLine(await reader.ReadToEndAsync());
        Console.WriteLine($"exists: {await store.ExistsAsync("notes", "hello.txt")}, clean: {(await store.VerifyAsync()).IsClean}");
        var backup = await store.BackupAsync(root + "-backup");
        Console.WriteLine($"backed up {backup.Blobs} blob(s)");
    }
}
finally
{
    if (args.Length == 0)
    {
        Directory.Delete(root, recursive: true);
        if (Directory.Exists(root + "-backup")) Directory.Delete(root + "-backup", recursive: true);
    }
}
