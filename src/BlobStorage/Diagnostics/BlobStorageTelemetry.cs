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
    private readonly Counter<long> _repairs;
    private readonly Counter<long> _replicated;
    private BlobStatistics _snapshot = new();
    private long _queueLength;
    private long _oldestQueuedTicks = -1;
    private int _changed;

    public BlobStorageTelemetry()
    {
        _meter = new Meter(Name);
        _operations = _meter.CreateCounter<long>("blobstorage.operations", "{operation}", "Blob operations completed, by kind (read, write, delete).");
        _bytes = _meter.CreateCounter<long>("blobstorage.io", "By", "Bytes read from and written to blobs, by direction.");
        _meter.CreateObservableGauge("blobstorage.blobs", () => Volatile.Read(ref _snapshot).TotalBlobs, "{blob}", "Blobs stored.");
        _meter.CreateObservableGauge("blobstorage.blob_bytes", () => Volatile.Read(ref _snapshot).TotalBytes, "By", "Sum of the sizes of the blobs stored.");
        _meter.CreateObservableGauge("blobstorage.stored_bytes", () => Volatile.Read(ref _snapshot).StoredBytes, "By", "Bytes of distinct chunks stored after deduplication.");
        _repairs = _meter.CreateCounter<long>("blobstorage.replication.repairs", "{copy}", "Chunk copies found missing or bad and rewritten from a good one, by who found them (read, scrub).");
        _replicated = _meter.CreateCounter<long>("blobstorage.replication.copies_written", "{copy}", "Copies written from the replication queue.");
        _meter.CreateObservableGauge("blobstorage.replication.queue_length", () => Interlocked.Read(ref _queueLength), "{copy}", "Copies waiting in the replication queue (other regions, and local copies an upload returned without).");
        _meter.CreateObservableGauge("blobstorage.replication.lag", ObserveLag, "s", "Age of the oldest copy in the replication queue; 0 when it is empty.");
    }

    /// <summary>The store's clock, for the replication lag.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public void Repaired(string source) => _repairs.Add(1, new KeyValuePair<string, object?>("source", source));

    public void Replicated() => _replicated.Add(1);

    public void UpdateReplication(long length, DateTimeOffset? oldest)
    {
        Interlocked.Exchange(ref _queueLength, length);
        Interlocked.Exchange(ref _oldestQueuedTicks, oldest?.UtcTicks ?? -1);
    }

    private double ObserveLag()
    {
        var oldest = Interlocked.Read(ref _oldestQueuedTicks);
        return oldest < 0 ? 0 : Math.Max(0, (Clock.GetUtcNow().UtcTicks - oldest) / (double)TimeSpan.TicksPerSecond);
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
