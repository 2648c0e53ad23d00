using System.Diagnostics.Metrics;
using BlobStorage.Diagnostics;

namespace BlobStorage.EdgeCache;

/// <summary>
/// The edge cache's instruments on the <c>BlobStorage</c> meter (from the host's <see cref="IMeterFactory"/> when there is
/// one), named as the store's own are (OpenTelemetry conventions: no unit in the name, UCUM units), each tagged with its
/// edge location (<c>blobstorage.edge.location</c>); requests also with <c>blobstorage.edge.result</c> (hit, miss).
/// </summary>
internal sealed class EdgeCacheMetrics : IDisposable
{
    private readonly Counter<long> _requests;
    private readonly Counter<long> _servedBytes;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _invalidations;

    private readonly bool _ownsMeter;

    public EdgeCacheMetrics(Func<IEnumerable<EdgeLocationCache>> edges, IMeterFactory? meterFactory = null)
    {
        var options = new MeterOptions(BlobStorageTelemetry.Name) { Version = typeof(EdgeCacheMetrics).Assembly.GetName().Version?.ToString() };
        Meter = meterFactory?.Create(options) ?? new Meter(options);
        _ownsMeter = meterFactory is null;
        _requests = Meter.CreateCounter<long>("blobstorage.edge.requests", "{request}", "Reads served by edge locations, by edge and result (hit, miss).");
        _servedBytes = Meter.CreateCounter<long>("blobstorage.edge.io", "By", "Bytes served from edge copies, by edge.");
        _evictions = Meter.CreateCounter<long>("blobstorage.edge.evictions", "{blob}", "Edge copies dropped for room or age, by edge.");
        _invalidations = Meter.CreateCounter<long>("blobstorage.edge.invalidations", "{blob}", "Edge copies dropped because the blob changed or was invalidated, by edge.");
        Meter.CreateObservableUpDownCounter("blobstorage.edge.blob.count", () => edges().Select(e => new Measurement<long>(e.Size().Blobs, Edge(e.Name))), "{blob}", "Blobs held, by edge.");
        Meter.CreateObservableUpDownCounter("blobstorage.edge.blob.usage", () => edges().Select(e => new Measurement<long>(e.Size().Bytes, Edge(e.Name))), "By", "Bytes held, by edge.");
    }

    /// <summary>The meter, for tests that listen to this cache's instruments only.</summary>
    public Meter Meter { get; }

    public void Request(string edge, bool hit, long bytes)
    {
        if (_requests.Enabled) _requests.Add(1, Edge(edge), new KeyValuePair<string, object?>("blobstorage.edge.result", hit ? "hit" : "miss"));
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

    public void Dispose()
    {
        // A factory's meters are the factory's to dispose.
        if (_ownsMeter) Meter.Dispose();
    }

    private static KeyValuePair<string, object?> Edge(string name) => new("blobstorage.edge.location", name);
}
