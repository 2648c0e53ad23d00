using System.Diagnostics;
using System.Diagnostics.Metrics;
using BlobStorage.Abstractions;

namespace BlobStorage.Diagnostics;

/// <summary>
/// The <see cref="Meter"/> and <see cref="ActivitySource"/> named <c>BlobStorage</c>. Counters move
/// with every operation; the gauges report the totals of the latest statistics snapshot, which the
/// store refreshes at every access flush.
/// </summary>
internal sealed class BlobStorageTelemetry : IDisposable
{
    public const string Name = "BlobStorage";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _operations;
    private readonly Counter<long> _bytes;
    private BlobStatistics _snapshot = new();
    private int _changed;

    public BlobStorageTelemetry()
    {
        _meter = new Meter(Name);
        _operations = _meter.CreateCounter<long>("blobstorage.operations", "{operation}", "Blob operations completed, by kind (read, write, delete).");
        _bytes = _meter.CreateCounter<long>("blobstorage.io", "By", "Bytes read from and written to blobs, by direction.");
        _meter.CreateObservableGauge("blobstorage.blobs", () => Volatile.Read(ref _snapshot).TotalBlobs, "{blob}", "Blobs stored.");
        _meter.CreateObservableGauge("blobstorage.blob_bytes", () => Volatile.Read(ref _snapshot).TotalBytes, "By", "Sum of the sizes of the blobs stored.");
        _meter.CreateObservableGauge("blobstorage.stored_bytes", () => Volatile.Read(ref _snapshot).StoredBytes, "By", "Bytes of distinct chunks stored after deduplication.");
    }

    public void Read(long bytes)
    {
        _operations.Add(1, new KeyValuePair<string, object?>("operation", "read"));
        _bytes.Add(bytes, new KeyValuePair<string, object?>("direction", "read"));
    }

    public void Write(long bytes)
    {
        _operations.Add(1, new KeyValuePair<string, object?>("operation", "write"));
        _bytes.Add(bytes, new KeyValuePair<string, object?>("direction", "write"));
        Volatile.Write(ref _changed, 1);
    }

    public void Delete(long count = 1)
    {
        _operations.Add(count, new KeyValuePair<string, object?>("operation", "delete"));
        Volatile.Write(ref _changed, 1);
    }

    /// <summary>True once after writes or deletes since the last call: the snapshot behind the gauges is stale.</summary>
    public bool TakeChanged() => Interlocked.Exchange(ref _changed, 0) == 1;

    public void Update(BlobStatistics statistics) => Volatile.Write(ref _snapshot, statistics);

    public void Dispose() => _meter.Dispose();
}
