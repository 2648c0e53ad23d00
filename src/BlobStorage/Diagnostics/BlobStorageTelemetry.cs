using System.Diagnostics;
using System.Diagnostics.Metrics;
using BlobStorage.Abstractions;

namespace BlobStorage.Diagnostics;

/// <summary>
/// A store's instruments on the <see cref="Meter"/> named <c>BlobStorage</c>, and the <see cref="ActivitySource"/> of the
/// same name. Names, units and tags follow the OpenTelemetry semantic conventions: dotted lowercase names without units,
/// UCUM units (<c>s</c>, <c>By</c>, <c>{blob}</c>), <c>error.type</c> on failures. The meter comes from the host's
/// <see cref="IMeterFactory"/> when there is one (so that tests and hosts can scope it), else it is made here; it is tagged
/// with the store's root folder so that several stores in one process keep their own instruments.
/// </summary>
internal sealed class BlobStorageTelemetry : IDisposable
{
    public const string Name = "BlobStorage";

    /// <summary>The tag on spans and on the duration histogram that names the operation (<c>upload</c>, <c>download</c>, ...).</summary>
    public const string OperationTag = "blobstorage.operation.name";

    public static readonly ActivitySource ActivitySource = new(Name, typeof(BlobStorageTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _io;
    private readonly Counter<long> _repairs;
    private readonly Counter<long> _replicated;
    private Func<BlobStatistics?>? _current;
    private long _queueLength;
    private long _oldestQueuedTicks = -1;

    public BlobStorageTelemetry(IMeterFactory? meterFactory = null, string? rootPath = null)
    {
        var options = new MeterOptions(Name)
        {
            Version = typeof(BlobStorageTelemetry).Assembly.GetName().Version?.ToString(),
            Tags = rootPath is null ? null : [new("blobstorage.store.root", rootPath)],
        };
        _meter = meterFactory?.Create(options) ?? new Meter(options);
        _ownsMeter = meterFactory is null;
        _duration = _meter.CreateHistogram<double>(
            "blobstorage.operation.duration",
            "s",
            "Duration of the store's public operations, by operation name, with error.type when one failed.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _io = _meter.CreateCounter<long>("blobstorage.io", "By", "Blob bytes uploaded and downloaded, by blobstorage.io.direction (read, write); a copy moves none.");

        // Up-down counters, as the conventions have for counts and usage: each reads the store's totals at collection time.
        _meter.CreateObservableUpDownCounter("blobstorage.blob.count", () => Observe(s => s.TotalBlobs), "{blob}", "Blobs stored.");
        _meter.CreateObservableUpDownCounter("blobstorage.blob.usage", () => Observe(s => s.TotalBytes), "By", "Sum of the sizes of the blobs stored.");
        _meter.CreateObservableUpDownCounter("blobstorage.chunk.usage", () => Observe(s => s.StoredBytes), "By", "Bytes of distinct chunks stored, after deduplication.");
        _repairs = _meter.CreateCounter<long>("blobstorage.replication.repairs", "{copy}", "Chunk copies found missing or bad and rewritten from a good one, by who found them (blobstorage.repair.source: read, scrub).");
        _replicated = _meter.CreateCounter<long>("blobstorage.replication.copies_written", "{copy}", "Copies written from the replication queue.");
        _meter.CreateObservableUpDownCounter("blobstorage.replication.queue.length", () => Interlocked.Read(ref _queueLength), "{copy}", "Copies waiting in the replication queue (other regions, and local copies an upload returned without).");
        _meter.CreateObservableGauge("blobstorage.replication.lag", ObserveLag, "s", "Age of the oldest copy in the replication queue; 0 when it is empty.");
    }

    /// <summary>The store's clock, for the replication lag.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public void Repaired(string source) => _repairs.Add(1, new KeyValuePair<string, object?>("blobstorage.repair.source", source));

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

    /// <summary>True when a listener takes spans or durations: only then does an operation pay for them.</summary>
    public bool IsObserved => _duration.Enabled || ActivitySource.HasListeners();

    /// <summary>Where the up-down counters read the store's totals; null (or a null answer) reports nothing.</summary>
    public void ObserveTotals(Func<BlobStatistics?> current) => Volatile.Write(ref _current, current);

    public void Read(long bytes)
    {
        if (bytes > 0 && _io.Enabled) _io.Add(bytes, new KeyValuePair<string, object?>("blobstorage.io.direction", "read"));
    }

    public void Write(long bytes)
    {
        if (bytes > 0 && _io.Enabled) _io.Add(bytes, new KeyValuePair<string, object?>("blobstorage.io.direction", "write"));
    }

    /// <summary>Starts the span of a public operation; <see cref="End"/> closes it and records its duration.</summary>
    public static Activity? Begin(string operation, string? container, string? blob)
    {
        var activity = ActivitySource.StartActivity(container is null ? operation : operation + " " + container, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(OperationTag, operation);
            if (container is not null) activity.SetTag("blobstorage.container.name", container);
            if (blob is not null) activity.SetTag("blobstorage.blob.name", blob);
        }

        return activity;
    }

    public void End(string operation, Activity? activity, long startedAt, Exception? failure)
    {
        string? errorType = failure is null ? null : ErrorTypeOf(failure);
        if (activity is not null)
        {
            if (failure is not null)
            {
                activity.SetStatus(ActivityStatusCode.Error, failure.Message);
                activity.SetTag("error.type", errorType);
                if (failure is BlobStorageException storageFailure) activity.SetTag("blobstorage.error_code", (int)storageFailure.ErrorCode);
                activity.AddException(failure);
            }

            activity.Stop();
        }

        if (_duration.Enabled)
        {
            var seconds = Stopwatch.GetElapsedTime(startedAt).TotalSeconds;
            if (errorType is null) _duration.Record(seconds, new KeyValuePair<string, object?>(OperationTag, operation));
            else _duration.Record(seconds, new KeyValuePair<string, object?>(OperationTag, operation), new KeyValuePair<string, object?>("error.type", errorType));
        }
    }

    /// <summary>The <c>error.type</c> of a failure: a store error's code (<c>BlobNotFound</c>), else the exception's type.</summary>
    public static string ErrorTypeOf(Exception failure) =>
        failure is BlobStorageException storageFailure ? storageFailure.ErrorCode.ToString() : failure.GetType().FullName ?? failure.GetType().Name;

    private IEnumerable<Measurement<long>> Observe(Func<BlobStatistics, long> pick)
    {
        BlobStatistics? totals;
        try
        {
            totals = Volatile.Read(ref _current)?.Invoke();
        }
        catch (Exception ex) when (ex is BlobStorageException or ObjectDisposedException or InvalidOperationException or IOException)
        {
            // A store that is closed or failing reports nothing rather than a stale figure.
            totals = null;
        }

        return totals is null ? [] : [new Measurement<long>(pick(totals))];
    }

    public void Dispose()
    {
        Volatile.Write(ref _current, null);
        if (_ownsMeter) _meter.Dispose();
    }
}
