using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BlobStorage.Abstractions;

namespace BlobStorage.Benchmarks;

/// <summary>
/// Upload throughput of one blob per operation, 1 MiB and 64 MiB, into a <see cref="ReplicationStrategy.Single"/>
/// container (the baseline: one copy) and a <see cref="ReplicationStrategy.LocalRedundancy"/> container (three copies
/// on three node folders, the upload returning once they are durable), on one durable store in a temporary folder.
/// The three node folders share the machine's one disk here, so the ratio is an upper bound of the cost on three disks.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchmarkConfig))]
public class ReplicationBenchmarks
{
    private const int UploadNames = 8;
    private string _root = "";
    private IBlobStore _store = null!;
    private byte[] _payload = [];
    private long _uploads;

    /// <summary>The size of each blob, in bytes.</summary>
    [Params(1024 * 1024, 64 * 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task GlobalSetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "blobstorage-bench-repl-" + Guid.NewGuid().ToString("N"));
        _store = await OpenTopologyAsync(_root);
        await _store.CreateContainerAsync("single");
        await _store.CreateContainerAsync("local", new ContainerOptions { ReplicationStrategy = ReplicationStrategy.LocalRedundancy });
        _payload = new byte[Size];
        GeneratedStream.Fill(seed: 42, position: 0, _payload);
    }

    /// <summary>A store over three local node folders under <paramref name="root"/>.</summary>
    internal static Task<IBlobStore> OpenTopologyAsync(string root) =>
        new BlobStoreBuilder(Path.Combine(root, "store"))
            .Configure(o =>
            {
                o.GarbageCollectionGracePeriod = TimeSpan.Zero;
                o.MaintenanceInterval = TimeSpan.FromSeconds(10);
                o.Topology.LocalRegion = "home";
            })
            .AddNode("home", "n1", Path.Combine(root, "n1"))
            .AddNode("home", "n2", Path.Combine(root, "n2"))
            .AddNode("home", "n3", Path.Combine(root, "n3"))
            .OpenAsync();

    [GlobalCleanup]
    public async Task GlobalCleanupAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Uploads <see cref="Size"/> new bytes into the Single container: one copy.</summary>
    [Benchmark(Baseline = true)]
    public Task<BlobProperties> UploadSingle() => UploadAsync("single");

    /// <summary>Uploads <see cref="Size"/> new bytes into the LocalRedundancy container: three copies.</summary>
    [Benchmark]
    public Task<BlobProperties> UploadLocalRedundancy() => UploadAsync("local");

    private async Task<BlobProperties> UploadAsync(string container)
    {
        var n = _uploads++;

        // A counter in every chunk's first bytes makes each upload's chunks new, so every copy is really written.
        for (var offset = 0; offset < _payload.Length; offset += 4 * 1024 * 1024) BinaryPrimitives.WriteInt64LittleEndian(_payload.AsSpan(offset), n);
        using var content = new MemoryStream(_payload, writable: false);
        return await _store.UploadAsync(container, $"upload/{n % UploadNames}", content);
    }
}
