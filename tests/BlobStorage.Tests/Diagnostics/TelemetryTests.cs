using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace BlobStorage.Tests.Diagnostics;

[NonParallelizable]
public class TelemetryTests
{
    /// <summary>Listens to the instruments of the one store at <paramref name="root"/> (tests of other stores run beside it).</summary>
    private sealed class StoreMeters : IDisposable
    {
        private readonly MeterListener _listener = new();

        public StoreMeters(string root)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "BlobStorage" && instrument.Meter.Tags?.Any(t => t.Key == "blobstorage.store.root" && Equals(t.Value, root)) == true)
                {
                    Instruments[instrument.Name] = instrument;
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.Start();
        }

        public ConcurrentDictionary<string, Instrument> Instruments { get; } = new();

        public ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> Measurements { get; } = new();

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            Measurements.Enqueue((instrument.Name, value, new Dictionary<string, object?>(tags.ToArray())));

        public double Observe(string name)
        {
            while (Measurements.TryDequeue(out _))
            {
            }

            _listener.RecordObservableInstruments();
            return Measurements.Where(m => m.Name == name).Select(m => m.Value).Single();
        }

        public void Dispose() => _listener.Dispose();
    }

    [Test]
    public async Task Instruments_follow_the_conventions_a_copy_writes_no_bytes_and_totals_are_current_at_every_read()
    {
        using var folder = new TempFolder("telemetry");
        using var meters = new StoreMeters(Path.GetFullPath(folder.Path));
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddBlobStorage(o => o.RootPath = folder.Path);
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IBlobStore>();

        await store.CreateContainerAsync("data");
        await store.UploadBytesAsync("data", "a", Streams.Bytes(1000));
        await store.CopyAsync("data", "a", "data", "b");
        (await store.DownloadBytesAsync("data", "b")).Should().HaveCount(1000);

        meters.Instruments.Keys.Should().BeEquivalentTo(
            "blobstorage.operation.duration", "blobstorage.io", "blobstorage.blob.count", "blobstorage.blob.usage", "blobstorage.chunk.usage",
            "blobstorage.replication.repairs", "blobstorage.replication.copies_written", "blobstorage.replication.queue.length", "blobstorage.replication.lag");
        meters.Instruments["blobstorage.operation.duration"].Unit.Should().Be("s");
        meters.Instruments["blobstorage.io"].Unit.Should().Be("By");
        meters.Instruments["blobstorage.blob.count"].Unit.Should().Be("{blob}");

        var io = meters.Measurements.Where(m => m.Name == "blobstorage.io").ToList();
        io.Where(m => Equals(m.Tags["blobstorage.io.direction"], "write")).Sum(m => m.Value).Should().Be(1000, "the copy shares chunks and writes no byte");
        io.Where(m => Equals(m.Tags["blobstorage.io.direction"], "read")).Sum(m => m.Value).Should().Be(1000);
        meters.Measurements.Where(m => m.Name == "blobstorage.operation.duration").Select(m => m.Tags["blobstorage.operation.name"])
            .Should().Contain(["create_container", "upload", "copy", "download"]);

        // No flush, no maintenance pass: the totals read at collection are already those of now.
        meters.Observe("blobstorage.blob.count").Should().Be(2);
        meters.Observe("blobstorage.blob.usage").Should().Be(2000);
        await store.DeleteAsync("data", "a");
        meters.Observe("blobstorage.blob.count").Should().Be(1);
    }

    [Test]
    public async Task Every_public_operation_has_a_span_and_a_failure_sets_error_status_and_error_type()
    {
        await using var test = await TestStore.OpenAsync();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "BlobStorage",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await test.Store.CreateContainerAsync("spans");
        await test.Store.UploadBytesAsync("spans", "a", Streams.Bytes(10));
        await test.Store.Invoking(s => s.GetPropertiesAsync("spans", "missing")).Should().ThrowAsync<BlobNotFoundException>();
        await foreach (var _ in test.Store.ListAllAsync("spans"))
        {
        }

        var mine = spans.Where(s => Equals(s.GetTagItem("blobstorage.container.name"), "spans")).ToList();
        mine.Select(s => s.GetTagItem("blobstorage.operation.name")).Should().Contain(["create_container", "upload", "get_properties", "list_all"]);
        var failed = mine.Single(s => Equals(s.GetTagItem("blobstorage.operation.name"), "get_properties"));
        failed.Status.Should().Be(ActivityStatusCode.Error);
        failed.GetTagItem("error.type").Should().Be("BlobNotFound");
        failed.GetTagItem("blobstorage.error_code").Should().Be((int)BlobErrorCode.BlobNotFound);
        failed.GetTagItem("blobstorage.blob.name").Should().Be("missing");
        mine.Single(s => Equals(s.GetTagItem("blobstorage.operation.name"), "upload")).Status.Should().NotBe(ActivityStatusCode.Error);
    }
}
