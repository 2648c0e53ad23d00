using BlobStorage.Abstractions;

namespace BlobStorage.CrashHost;

/// <summary>
/// The seeded workload over a few names in container <c>crash</c>: uploads, overwrites (some with
/// <c>IfMatch</c>, some create-only), uploads of content seen before, multipart uploads (parts in any
/// order, some replaced before completion), copies, deletes, metadata updates, reads, aborted
/// multipart uploads, maintenance passes and, rarely, deleting the container with its contents
/// and creating it again. One <see cref="Random"/> of the seed makes every decision; each
/// version's bytes come from (seed, operation index). Every write sets metadata
/// <c>v = "seed:index"</c>, so the test can tell which operation a blob's state came from.
/// </summary>
internal sealed class Workload(IBlobStore store, int seed, Report report)
{
    // Container names are 3 to 63 characters: "c" would be refused.
    public const string Container = "crash";

    private static readonly string[] Names = ["a", "b", "dir/c", "dir/d", "e/f/g", "h", "i.bin", "j"];

    private readonly Random _random = new(seed);

    // What the host knows of each blob: the SHA-256 of its content and its ETag.
    private readonly SortedDictionary<string, (string Hash, string ETag)> _blobs = new(StringComparer.Ordinal);
    private readonly List<byte[]> _recent = [];

    /// <summary>The operation under way, for a failure report.</summary>
    public string Current { get; private set; } = "prepare - -";

    /// <summary>Creates the container if a first run did not, and learns the blobs earlier runs left.</summary>
    public async Task PrepareAsync()
    {
        try
        {
            await store.GetContainerAsync(Container);
        }
        catch (ContainerNotFoundException)
        {
            Begin("create-container", Container, null);
            await store.CreateContainerAsync(Container);
            report.Ack("create-container", Container, null);
        }

        await foreach (var blob in store.ListAllAsync(Container))
        {
            await using var download = await store.DownloadAsync(Container, blob.Name);
            _blobs[blob.Name] = (await HashAsync(download.Content), download.Properties.ETag);
        }

        report.Line($"READY {_blobs.Count}");
    }

    public async Task RunAsync(int operations)
    {
        for (var i = 0; i < operations; i++)
        {
            var roll = _random.Next(100);
            if (_blobs.Count == 0 && roll is >= 45 and < 95) roll = 0; // nothing to copy, delete, update or read yet
            var tag = $"{seed}:{i}";
            switch (roll)
            {
                case < 30: await UploadAsync(i, tag, Content.Make(seed, i)); break;
                case < 37: await UploadAsync(i, tag, _recent.Count == 0 ? Content.Make(seed, i) : _recent[_random.Next(_recent.Count)]); break;
                case < 45: await MultipartAsync(i, tag); break;
                case < 57: await CopyAsync(tag); break;
                case < 68: await DeleteAsync(); break;
                case < 80: await UpdateMetadataAsync(tag); break;
                case < 90: await ReadAsync(); break;
                case < 95: await AbortedMultipartAsync(i); break;
                case < 99:
                    Begin("maintenance", "-", null);
                    await store.RunMaintenanceAsync();
                    report.Ack("maintenance", "-", null);
                    break;
                default: await RecreateContainerAsync(); break;
            }
        }
    }

    private async Task UploadAsync(int operation, string tag, byte[] content)
    {
        var name = Pick(Names);
        var hash = Content.Sha256(content);
        var exists = _blobs.TryGetValue(name, out var current);
        var op = exists ? "overwrite" : "upload";
        BlobRequestConditions? conditions = _random.Next(3) switch
        {
            0 => exists ? new BlobRequestConditions { IfMatch = current.ETag } : BlobRequestConditions.CreateOnly,
            _ => null,
        };
        var expected = operation % 2 == 0 ? hash : null;
        Begin(op, name, hash);
        var properties = await store.UploadAsync(
            Container,
            name,
            new MemoryStream(content, writable: false),
            new BlobUploadOptions { Metadata = Version(tag), Conditions = conditions, ExpectedContentHash = expected });
        Expect(properties.ContentHash == hash && properties.Size == content.Length, $"the upload reported SHA-256 {properties.ContentHash} and {properties.Size} bytes, not {hash} and {content.Length}");
        _blobs[name] = (hash, properties.ETag);
        report.Ack(op, name, hash);
        _recent.Add(content);
        if (_recent.Count > 6) _recent.RemoveAt(0);
    }

    private async Task MultipartAsync(int operation, string tag)
    {
        var name = Pick(Names);
        var (content, sizes) = Content.MakeMultipart(seed, operation);
        var hash = Content.Sha256(content);
        var order = Enumerable.Range(1, sizes.Length).ToArray();
        _random.Shuffle(order);
        var replaced = _random.Next(4) == 0 ? order[0] : 0;
        Begin("multipart", name, hash);
        var uploadId = await store.StartMultipartUploadAsync(Container, name, new MultipartUploadOptions { Metadata = Version(tag) });
        var etags = new string[sizes.Length + 1];
        foreach (var number in order)
        {
            if (number == replaced)
            {
                await store.UploadPartAsync(uploadId, number, new MemoryStream(Content.Discarded(seed, operation, number), writable: false));
            }

            var offset = sizes.Take(number - 1).Sum();
            var part = await store.UploadPartAsync(uploadId, number, new MemoryStream(content, offset, sizes[number - 1], writable: false));
            Expect(part.ContentHash == Content.Sha256(content.AsSpan(offset, sizes[number - 1])), $"part {number} reported SHA-256 {part.ContentHash}");
            etags[number] = part.ETag;
        }

        var properties = await store.CompleteMultipartUploadAsync(uploadId, Enumerable.Range(1, sizes.Length).Select(n => new CompletedPart(n, etags[n])));
        Expect(properties.Size == content.Length, $"the completed upload holds {properties.Size} bytes, not {content.Length}");
        _blobs[name] = (hash, properties.ETag);
        report.Ack("multipart", name, hash);
    }

    private async Task AbortedMultipartAsync(int operation)
    {
        var name = Pick(Names);
        var content = Content.Discarded(seed, operation, 0);
        Begin("multipart-abort", name, Content.Sha256(content));
        var uploadId = await store.StartMultipartUploadAsync(Container, name);
        await store.UploadPartAsync(uploadId, 1, new MemoryStream(content, writable: false));
        await store.AbortMultipartUploadAsync(uploadId);
        report.Ack("multipart-abort", name, Content.Sha256(content));
    }

    // One transaction drops every blob and open upload of the container, or none.
    private async Task RecreateContainerAsync()
    {
        Begin("delete-container", Container, null);
        await store.DeleteContainerAsync(Container, deleteContents: true);
        _blobs.Clear();
        report.Ack("delete-container", Container, null);
        Begin("create-container", Container, null);
        await store.CreateContainerAsync(Container);
        report.Ack("create-container", Container, null);
    }

    private async Task CopyAsync(string tag)
    {
        var source = Pick([.. _blobs.Keys]);
        var destination = _random.Next(8) == 0 ? source : Pick(Names);
        var hash = _blobs[source].Hash;
        Begin("copy", destination, hash);
        var properties = await store.CopyAsync(Container, source, Container, destination, new BlobCopyOptions { Metadata = Version(tag) });
        _blobs[destination] = (hash, properties.ETag);
        report.Ack("copy", destination, hash);
    }

    private async Task DeleteAsync()
    {
        var name = Pick([.. _blobs.Keys]);
        var conditions = _random.Next(3) == 0 ? new BlobRequestConditions { IfMatch = _blobs[name].ETag } : null;
        Begin("delete", name, null);
        await store.DeleteAsync(Container, name, conditions);
        _blobs.Remove(name);
        report.Ack("delete", name, null);
    }

    private async Task UpdateMetadataAsync(string tag)
    {
        var name = Pick([.. _blobs.Keys]);
        var hash = _blobs[name].Hash;
        Begin("metadata", name, hash);
        var properties = await store.UpdateMetadataAsync(
            Container,
            name,
            new BlobMetadataUpdate { Metadata = new Dictionary<string, string?> { ["v"] = tag }, Tags = new Dictionary<string, string?> { ["t"] = tag }, Mode = MetadataUpdateMode.Replace });
        _blobs[name] = (hash, properties.ETag);
        report.Ack("metadata", name, hash);
    }

    private async Task ReadAsync()
    {
        var name = Pick([.. _blobs.Keys]);
        var hash = _blobs[name].Hash;
        Begin("read", name, hash);
        await using (var download = await store.DownloadAsync(Container, name))
        {
            var read = await HashAsync(download.Content);
            Expect(read == hash, $"blob '{name}' read back with SHA-256 {read}, not {hash}");
        }

        report.Ack("read", name, hash);
    }

    private void Begin(string operation, string blob, string? hash)
    {
        Current = $"{operation} {blob} {hash ?? "-"}";
        report.Begin(operation, blob, hash);
    }

    private string Pick(string[] names) => names[_random.Next(names.Length)];

    private static Dictionary<string, string> Version(string tag) => new() { ["v"] = tag };

    private static async Task<string> HashAsync(Stream content)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer);
        return Content.Sha256(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    private static void Expect(bool condition, string problem)
    {
        if (!condition) throw new InvalidOperationException(problem);
    }
}
