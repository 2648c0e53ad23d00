using System.Diagnostics.Metrics;
using BlobStorage.Diagnostics;

namespace BlobStorage.EdgeCache;

/// <summary>The edge cache's instruments on the <c>BlobStorage</c> meter, each tagged with its edge location.</summary>
internal sealed class EdgeCacheMetrics : IDisposable
{
    private readonly Counter<long> _requests;
    private readonly Counter<long> _servedBytes;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _invalidations;

    public EdgeCacheMetrics(Func<IEnumerable<EdgeLocationCache>> edges)
    {
        Meter = new Meter(BlobStorageTelemetry.Name);
        _requests = Meter.CreateCounter<long>("blobstorage.edge.requests", "{request}", "Reads served by edge locations, by edge and result (hit, miss).");
        _servedBytes = Meter.CreateCounter<long>("blobstorage.edge.served_bytes", "By", "Bytes served from edge copies, by edge.");
        _evictions = Meter.CreateCounter<long>("blobstorage.edge.evictions", "{blob}", "Edge copies dropped for room or age, by edge.");
        _invalidations = Meter.CreateCounter<long>("blobstorage.edge.invalidations", "{blob}", "Edge copies dropped because the blob changed or was invalidated, by edge.");
        Meter.CreateObservableGauge("blobstorage.edge.cached_blobs", () => edges().Select(e => new Measurement<long>(e.Size().Blobs, Edge(e.Name))), "{blob}", "Blobs held, by edge.");
        Meter.CreateObservableGauge("blobstorage.edge.cached_bytes", () => edges().Select(e => new Measurement<long>(e.Size().Bytes, Edge(e.Name))), "By", "Bytes held, by edge.");
    }

    /// <summary>The meter, for tests that listen to this cache's instruments only.</summary>
    public Meter Meter { get; }

    public void Request(string edge, bool hit, long bytes)
    {
        if (_requests.Enabled) _requests.Add(1, Edge(edge), new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));
        if (bytes > 0 && _servedBytes.Enabled) _servedBytes.Add(bytes, Edge(edge));
    }

    public void Evicted(string edge, long count)
    {
        if (_evictions.Enabled) _evictions.Add(count, Edge(edge));
    }

    public void Invalidated(string edge, long count)
    {
        if (_invalidations.Enabled) _invalidations.Add(count, Edge(edge));
    }

    public void Dispose() => Meter.Dispose();

    private static KeyValuePair<string, object?> Edge(string name) => new("edge", name);
}
