// BlobStorage quickstart: an embedded blob store in ./data, driven end to end.
// Run it from the repository root with `dotnet run --project samples/Quickstart`; run it again
// as often as you like: it removes what it created last time before it starts.
using System.Globalization;
using System.Text;
using BlobStorage;
using BlobStorage.Abstractions;

// 1. Open (or create) the store. The whole store is this one folder: a SQLite database for the
//    metadata and content-addressed chunk files for the bytes.
var root = Path.GetFullPath("data");
Console.WriteLine($"Store folder: {root}");
//    The chunks are kept on several nodes: three folders in the local region "home" (in a real
//    deployment each on its own disk; the first is the store's own chunks folder, so a store made by an
//    earlier version of this sample opens unchanged), a cold node there for the Archive class, and one
//    folder each for two other regions.
await using IBlobStore store = await new BlobStoreBuilder(root)
    .Configure(o => o.Topology.LocalRegion = "home")
    .AddNode("home", "local", Path.Combine(root, "chunks"))
    .AddNode("home", "home-2", Path.Combine(root, "nodes", "home-2"))
    .AddNode("home", "home-3", Path.Combine(root, "nodes", "home-3"))
    .AddNode("home", "home-cold", Path.Combine(root, "nodes", "home-cold"), isCold: true)
    .AddNode("eu-west", "eu-west-1", Path.Combine(root, "nodes", "eu-west-1"))
    .AddNode("ap-southeast", "ap-southeast-1", Path.Combine(root, "nodes", "ap-southeast-1"))
    .OpenAsync();

// 2. Start from a clean slate: remove the containers a previous run left behind, blobs and all.
foreach (var name in new[] { "photos", "archive", "images", "documents", "backups" })
{
    try
    {
        await store.DeleteContainerAsync(name, deleteContents: true);
        Console.WriteLine($"Removed container '{name}' left by a previous run.");
    }
    catch (ContainerNotFoundException)
    {
        // First run: nothing to clean up.
    }
}

// 3. Create the containers: 'photos' with the defaults (Standard storage class, one copy), 'images'
//    (Standard, three copies on distinct local nodes, public for the CDN below), 'documents'
//    (InfrequentAccess, three local copies plus one in another region) and 'backups' (Archive, three
//    local copies, the cold node first, plus one in every other region).
Section("Containers");
await store.CreateContainerAsync("photos");
await store.CreateContainerAsync("images", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy, AccessPolicy = AccessPolicy.Public });
await store.CreateContainerAsync("documents", new ContainerOptions
{
    DefaultStorageClass = StorageClass.InfrequentAccess,
    ReplicationStrategy = ReplicationStrategy.CrossRegion,
});
await store.CreateContainerAsync("backups", new ContainerOptions
{
    DefaultStorageClass = StorageClass.Archive,
    ReplicationStrategy = ReplicationStrategy.Global,
});
await foreach (var container in store.ListContainersAsync())
{
    Console.WriteLine($"  {container.Name,-10} class={container.DefaultStorageClass,-8} replication={container.ReplicationStrategy,-15} access={container.AccessPolicy}");
}

// 4. Upload a few small text blobs, with a content type and tags. Names may contain '/', which
//    listing can group on like folders.
Section("Uploads");
await UploadTextAsync("readme.txt", "Holiday photos, sorted by year and trip.", new() { ["kind"] = "note" });
await UploadTextAsync("2024/summer/beach.txt", "Sand, sea and a very large umbrella.", new() { ["trip"] = "summer" });
await UploadTextAsync("2024/summer/harbour.txt", "Boats at sunset.", new() { ["trip"] = "summer" });
await UploadTextAsync("2024/winter/snow.txt", "Everything is white.", new() { ["trip"] = "winter" });
await UploadTextAsync("2025/spring/blossom.txt", "Cherry trees in bloom.", new() { ["trip"] = "spring" });

// 5. Upload 10 MiB generated on the fly. The store reads the stream chunk by chunk and hashes it
//    as it passes: nothing here, nor in the store, holds the 10 MiB in one array.
const long videoSize = 10L * 1024 * 1024;
await using (var generated = new PatternStream(videoSize))
{
    var video = await store.UploadAsync("photos", "2024/summer/video.bin", generated, new BlobUploadOptions
    {
        ContentType = "application/octet-stream",
        Tags = new Dictionary<string, string> { ["trip"] = "summer", ["kind"] = "video" },
    });
    Console.WriteLine($"  {video.Name,-26} {Size(video.Size),10}  sha256={video.ContentHash[..16]}...  etag={video.ETag}");
}

// 6. Download one blob whole, and read byte ranges of another: from an offset, and the last N bytes.
Section("Downloads");
await using (var download = await store.DownloadAsync("photos", "2024/summer/beach.txt"))
{
    using var reader = new StreamReader(download.Content, Encoding.UTF8);
    Console.WriteLine($"  whole    beach.txt ({download.Properties.ContentType}): \"{await reader.ReadToEndAsync()}\"");
}

await using (var download = await store.DownloadAsync("photos", "2024/summer/video.bin", new BlobDownloadOptions
{
    Range = new BlobRange(offset: 5 * 1024 * 1024, length: 16),
}))
{
    Console.WriteLine($"  range    video.bin bytes {download.Offset}..{download.Offset + download.Length - 1}: {await HexAsync(download.Content)}");
}

await using (var download = await store.DownloadAsync("photos", "2024/summer/video.bin", new BlobDownloadOptions
{
    Range = BlobRange.Last(8),
}))
{
    Console.WriteLine($"  last 8   video.bin bytes {download.Offset}..{download.Offset + download.Length - 1}: {await HexAsync(download.Content)}");
}

// 7. List by prefix: every blob whose name starts with "2024/summer/".
Section("List with prefix \"2024/summer/\"");
await foreach (var blob in store.ListAllAsync("photos", prefix: "2024/summer/"))
{
    Console.WriteLine($"  {blob.Name,-26} {Size(blob.Size),10}  {blob.ContentType}");
}

// 8. List with the delimiter "/": like a folder view, blobs at this level plus the common
//    prefixes below it. A small page size shows how continuation tokens carry on the listing.
Section("List with delimiter \"/\" (pages of 2)");
await ListFolderAsync(prefix: null);
await ListFolderAsync(prefix: "2024/");

// 9. Update tags in Merge mode: new keys are added, the ones already there are kept.
Section("Tags");
var before = await store.GetPropertiesAsync("photos", "2024/summer/beach.txt");
var after = await store.UpdateMetadataAsync("photos", "2024/summer/beach.txt", new BlobMetadataUpdate
{
    Mode = MetadataUpdateMode.Merge,
    Tags = new Dictionary<string, string?> { ["reviewed"] = "yes", ["rating"] = "5" },
});
Console.WriteLine($"  before: {Tags(before.Tags)}");
Console.WriteLine($"  after:  {Tags(after.Tags)}");

// 10. Overwrite a blob: the replacement is atomic, and the ETag changes, so a writer that sends
//     IfMatch with the old ETag is told the blob changed under it.
Section("Overwrite");
var oldVersion = await store.GetPropertiesAsync("photos", "readme.txt");
var newVersion = await UploadTextAsync("readme.txt", "Holiday photos, sorted by year and trip. Now with a video.", new() { ["kind"] = "note" });
Console.WriteLine($"  ETag {oldVersion.ETag} -> {newVersion.ETag}");
try
{
    await UploadTextAsync("readme.txt", "A stale edit.", [], new BlobRequestConditions { IfMatch = oldVersion.ETag });
}
catch (PreconditionFailedException e)
{
    Console.WriteLine($"  an upload with IfMatch on the old ETag is refused: {e.ErrorCode}");
}

// 11. Copy the video into the backups container. A copy only writes metadata: the chunks are
//     shared, so the bytes stored after deduplication do not grow (the further copies the backups'
//     strategy asks for are queued and written by the replication queue).
Section("Copy");
var storedBeforeCopy = (await store.GetStatisticsAsync()).StoredBytes;
var copy = await store.CopyAsync("photos", "2024/summer/video.bin", "backups", "2024/video.bin", new BlobCopyOptions
{
    StorageClass = StorageClass.Archive,   // without it, a copy keeps the source's storage class
});
var storedAfterCopy = (await store.GetStatisticsAsync()).StoredBytes;
Console.WriteLine($"  {copy.Container}/{copy.Name}: {Size(copy.Size)}, storage class {copy.StorageClass}");
Console.WriteLine($"  stored bytes before the copy {Size(storedBeforeCopy)}, after {Size(storedAfterCopy)}: the copy cost {Size(storedAfterCopy - storedBeforeCopy)}");

// 12. Delete a blob; reading it afterwards is a typed error.
Section("Delete");
await store.DeleteAsync("photos", "2024/winter/snow.txt");
try
{
    await store.GetPropertiesAsync("photos", "2024/winter/snow.txt");
}
catch (BlobNotFoundException e)
{
    Console.WriteLine($"  deleted 2024/winter/snow.txt; reading it now: {e.ErrorCode}");
}

// 13. Statistics: logical totals, the bytes actually stored after deduplication (the copy shares
//     the video's chunks), and operation counters kept across restarts.
Section("Statistics");
var stats = await store.GetStatisticsAsync();
Console.WriteLine($"  blobs           {stats.TotalBlobs}");
Console.WriteLine($"  logical bytes   {Size(stats.TotalBytes)}");
Console.WriteLine($"  stored bytes    {Size(stats.StoredBytes)} in {stats.ChunkCount} chunk(s) (after deduplication)");
Console.WriteLine($"  reads           {stats.ReadOperations} ({Size(stats.BytesRead)}, average {Size((long)stats.AverageReadSize)})");
Console.WriteLine($"  writes          {stats.WriteOperations} ({Size(stats.BytesWritten)}, average {Size((long)stats.AverageWriteSize)})");
Console.WriteLine($"  deletes         {stats.DeleteOperations}   (operation counters cover every run against this folder)");
foreach (var container in stats.Containers)
{
    Console.WriteLine($"  container {container.Name,-10} {container.BlobCount,3} blob(s) {Size(container.TotalBytes),10}");
}

// 14. The CDN half: the 'images' container served from three edge locations, cached for two hours,
//     under its own domain. The first read at an edge misses and reads the store; the next is a hit.
Section("CDN");
var cdn = await store.SetCdnConfigurationAsync("images", new CdnConfiguration
{
    Enabled = true,
    EdgeLocations = ["us-east-1", "eu-west-1", "ap-southeast-1"],
    TimeToLive = TimeSpan.FromSeconds(7200),
    CustomDomain = "images.example.com",
});
Console.WriteLine($"  images: edges {string.Join(", ", cdn.EdgeLocations)}, TTL {cdn.TimeToLive.TotalSeconds:F0} s, domain {cdn.CustomDomain}");
await using (var logo = new PatternStream(256 * 1024))
{
    await store.UploadAsync("images", "brand/logo.png", logo, new BlobUploadOptions { ContentType = "image/png" });
}

Console.WriteLine($"  CDN URL          {await store.Urls.GetCdnUrlAsync("images", "brand/logo.png")}");
Console.WriteLine($"  at one edge      {await store.Urls.GetCdnUrlAsync("images", "brand/logo.png", "eu-west-1")}");
for (var read = 1; read <= 2; read++)
{
    var hitsBefore = store.EdgeCache.GetStatistics().Total.Hits;
    await using var served = await store.DownloadFromEdgeAsync("eu-west-1", "images", "brand/logo.png");
    await served.Content.CopyToAsync(Stream.Null);
    var hit = store.EdgeCache.GetStatistics().Total.Hits > hitsBefore;
    Console.WriteLine($"  read {read} at eu-west-1: {(hit ? "hit, served from the edge" : "miss, read from the store")} ({Size(served.Length)}, etag {served.Properties.ETag})");
}

foreach (var edge in store.EdgeCache.GetStatistics().Edges.Append(store.EdgeCache.GetStatistics().Total))
{
    Console.WriteLine($"  {edge.EdgeLocation ?? "total",-10} requests {edge.Requests}, hits {edge.Hits}, misses {edge.Misses}, hit ratio {edge.HitRatio:P0}, " +
        $"served {Size(edge.BytesServed)}, cached {edge.BlobsCached} blob(s) {Size(edge.BytesCached)}, evictions {edge.Evictions}, invalidations {edge.Invalidations}");
}

// 15. Where the copies are: every copy of every chunk, with its node, region, role and checksum.
//     Copies for other regions go through a durable queue; a maintenance pass (or the background pass
//     after an upload) writes them, and an unreachable region only delays them.
Section("Replicas");
await UploadToAsync("documents", "contracts/2025-lease.txt", "Lease agreement, signed.");
await UploadToAsync("backups", "db/2025-12-01.dump", "-- a database dump --");
await UploadToAsync("images", "brand/wordmark.txt", "BlobStorage");
var maintenance = await store.RunMaintenanceAsync();
Console.WriteLine($"  replication queue: {maintenance.ReplicasWritten} copy(ies) written, {maintenance.ReplicationQueueLength} waiting");
foreach (var (container, name) in new[] { ("images", "brand/wordmark.txt"), ("documents", "contracts/2025-lease.txt"), ("backups", "db/2025-12-01.dump"), ("backups", "2024/video.bin") })
{
    var locations = await store.GetLocationsAsync(container, name);
    var properties = await store.GetPropertiesAsync(container, name);
    Console.WriteLine($"  {container}/{name}: {locations.ReplicationStrategy}, {locations.StorageClass}, fully replicated: {locations.IsFullyReplicated}, properties say {properties.IsFullyReplicated}");
    foreach (var place in locations.Copies.Where(c => c.ChunkIndex == 0))
    {
        Console.WriteLine($"    chunk 0 {place.Chunk.ToString()[..12]}…  {(place.IsPrimary ? "primary" : "replica"),-7}  {place.Node,-15} {place.Region,-13} {(place.IsCold ? "cold" : "hot"),-4}  {place.State,-7}  xxh3={place.StoredChecksum:x16}");
    }

    var chunks = locations.Copies.Select(c => c.ChunkIndex).Distinct().Count();
    if (chunks > 1) Console.WriteLine($"    … and {chunks - 1} more chunk(s), {locations.Copies.Count} copies in all");
}

var scrub = await store.ScrubAsync();
Console.WriteLine($"  scrub: {scrub.CopiesChecked} copies of {scrub.ChunksChecked} chunks checked ({Size(scrub.BytesVerified)}), {scrub.CorruptCopies} corrupt, {scrub.MissingCopies} missing, {scrub.RepairedCopies} repaired, {scrub.UnrecoverableChunks} unrecoverable");

// 16. Done. Disposing the store (the `await using` above) flushes access statistics and releases the folder.
Console.WriteLine();
Console.WriteLine($"Done. The store stays in {root}; run again to start over.");

async Task UploadToAsync(string container, string name, string text)
{
    using var content = new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false);
    await store.UploadAsync(container, name, content, new BlobUploadOptions { ContentType = "text/plain; charset=utf-8" });
}

async Task<BlobProperties> UploadTextAsync(string name, string text, Dictionary<string, string> tags, BlobRequestConditions? conditions = null)
{
    using var content = new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false);
    var blob = await store.UploadAsync("photos", name, content, new BlobUploadOptions
    {
        ContentType = "text/plain; charset=utf-8",
        Tags = tags,
        Conditions = conditions,
    });
    Console.WriteLine($"  {blob.Name,-26} {Size(blob.Size),10}  sha256={blob.ContentHash[..16]}...  etag={blob.ETag}");
    return blob;
}

async Task ListFolderAsync(string? prefix)
{
    Console.WriteLine($"  under \"{prefix ?? ""}\":");
    string? token = null;
    var page = 0;
    do
    {
        var result = await store.ListAsync("photos", new BlobListOptions
        {
            Prefix = prefix,
            Delimiter = "/",
            PageSize = 2,
            ContinuationToken = token,
        });
        page++;
        foreach (var folder in result.CommonPrefixes)
        {
            Console.WriteLine($"    page {page}  prefix {folder}");
        }

        foreach (var blob in result.Blobs)
        {
            Console.WriteLine($"    page {page}  blob   {blob.Name} ({Size(blob.Size)})");
        }

        token = result.ContinuationToken;
    }
    while (token is not null);
}

static void Section(string title)
{
    Console.WriteLine();
    Console.WriteLine($"== {title}");
}

static string Tags(IReadOnlyDictionary<string, string> tags) =>
    tags.Count == 0 ? "(none)" : string.Join(", ", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));

static string Size(long bytes) => bytes switch
{
    < 1024 => $"{bytes} B",
    < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
    _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
};

static async Task<string> HexAsync(Stream content)
{
    var buffer = new byte[64];
    var total = 0;
    int read;
    while (total < buffer.Length && (read = await content.ReadAsync(buffer.AsMemory(total))) > 0)
    {
        total += read;
    }

    return Convert.ToHexString(buffer, 0, total);
}

/// <summary>
/// A read-only stream of <c>length</c> deterministic pseudo-random bytes, produced into the caller's
/// buffer as it is read: a stand-in for a large file or a network body.
/// </summary>
internal sealed class PatternStream(long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < count; i++)
        {
            // A cheap hash of the position: every byte is reproducible, and no two chunks repeat.
            var x = (ulong)(_position + i) * 0x9E3779B97F4A7C15UL;
            buffer[i] = (byte)((x >> 32) ^ (x >> 56));
        }

        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
