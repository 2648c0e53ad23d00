using System.Reflection;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.Lifecycle;

/// <summary>Maintenance as a hosted service in a Generic Host, on the store's own timer without one, and one pass at a time.</summary>
public sealed class MaintenanceServiceTests
{
    [Test]
    public async Task In_a_Generic_Host_maintenance_runs_on_the_interval_and_stops_cleanly()
    {
        using var folder = new TempFolder("host");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var logs = new ListLogger();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddBlobStorage(o =>
        {
            o.RootPath = folder.Path;
            o.MaintenanceInterval = TimeSpan.FromMinutes(5);
        });
        using var host = builder.Build();
        await host.StartAsync();
        var store = host.Services.GetRequiredService<IBlobStore>();
        await store.CreateContainerAsync("logs");
        await store.SetLifecycleRulesAsync("logs", [new LifecycleRule { Name = "expire", Action = LifecycleAction.Delete, DaysAfter = 0 }]);
        await store.UploadAsync("logs", "a", new MemoryStream([1, 2, 3]));

        // The hosted service waits on the fake clock; advancing it past the interval runs one pass, which deletes the blob.
        var deleted = logs.WaitForAsync("and deleted 1;");
        time.Advance(TimeSpan.FromMinutes(5));
        await deleted.WaitAsync(TimeSpan.FromMinutes(1));
        (await ExistsAsync(store, "logs", "a")).Should().BeFalse();

        await host.StopAsync();
        logs.Entries.Should().NotContain(e => e.Level >= LogLevel.Error, "stopping the host is not a failure");
        logs.Entries.Should().Contain(e => e.Message.Contains("hosted service", StringComparison.Ordinal));
    }

    [Test]
    public async Task Stopping_the_host_cancels_a_pass_in_progress_without_logging_an_error()
    {
        using var folder = new TempFolder("host");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var logs = new ListLogger();
        var gate = new PassGate();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton<IMetadataStore>(_ => gate.Wrap(BlobStorage.DependencyInjection.StoreComposition.CreateMetadataStore(new BlobStorageOptions { RootPath = folder.Path })));
        builder.Services.AddBlobStorage(o =>
        {
            o.RootPath = folder.Path;
            o.MaintenanceInterval = TimeSpan.FromMinutes(5);
        });
        using var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IBlobStore>().CreateContainerAsync("logs");
        gate.Armed = true;
        time.Advance(TimeSpan.FromMinutes(5));
        await gate.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));

        await host.StopAsync();

        gate.Cancelled.Should().BeTrue("the pass saw the host's stopping token");
        logs.Entries.Should().NotContain(e => e.Level >= LogLevel.Error);
        logs.Entries.Should().Contain(e => e.Message.Contains("cancelled because the host is stopping", StringComparison.Ordinal));
    }

    [Test]
    public async Task Without_a_host_the_store_runs_maintenance_on_its_own_timer()
    {
        using var folder = new TempFolder("timer");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var logs = new ListLogger();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        await using var store = await new BlobStoreBuilder(folder.Path)
            .Configure(o => o.MaintenanceInterval = TimeSpan.FromMinutes(5))
            .UseTimeProvider(time)
            .UseLoggerFactory(loggerFactory)
            .OpenAsync();
        await store.CreateContainerAsync("logs");
        await store.SetLifecycleRulesAsync("logs", [new LifecycleRule { Name = "expire", Action = LifecycleAction.Delete, DaysAfter = 0 }]);
        await store.UploadAsync("logs", "a", new MemoryStream([1, 2, 3]));
        var deleted = logs.WaitForAsync("and deleted 1;");

        time.Advance(TimeSpan.FromMinutes(5));

        await deleted.WaitAsync(TimeSpan.FromMinutes(1));
        (await ExistsAsync(store, "logs", "a")).Should().BeFalse();
    }

    [Test]
    public async Task Two_maintenance_requests_at_once_run_one_pass_after_the_other()
    {
        using var folder = new TempFolder("passes");
        var gate = new PassGate();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        await using var store = await new BlobStoreBuilder(folder.Path)
            .Configure(o => o.MaintenanceInterval = Timeout.InfiniteTimeSpan)
            .UseTimeProvider(time)
            .UseMetadataStore(gate.Wrap(BlobStorage.DependencyInjection.StoreComposition.CreateMetadataStore(new BlobStorageOptions { RootPath = folder.Path })))
            .OpenAsync();
        gate.Armed = true;

        var first = store.RunMaintenanceAsync();
        await gate.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var second = store.RunMaintenanceAsync();
        gate.Release.SetResult();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromMinutes(1));

        gate.MaxConcurrent.Should().Be(1);
        gate.Calls.Should().Be(2, "each pass lists the containers once");
    }

    [Test]
    public async Task A_pass_scrubs_once_ScrubInterval_has_passed_and_reports_what_it_found()
    {
        await using var test = await TestStore.OpenAsync(o => o.ScrubInterval = TimeSpan.FromDays(1));
        await test.Store.CreateContainerAsync("data");
        await test.Store.UploadAsync("data", "a", new MemoryStream(BlobStorage.Tests.Tiers.TierContent.Random(TestStore.ChunkSize)));

        (await test.Store.RunMaintenanceAsync()).Scrubbed.Should().BeFalse();
        test.Time.Advance(TimeSpan.FromDays(1));
        var clean = await test.Store.RunMaintenanceAsync();
        clean.Scrubbed.Should().BeTrue();
        clean.ScrubProblems.Should().Be(0);
        (await test.Store.RunMaintenanceAsync()).Scrubbed.Should().BeFalse("the next scrub is a day away");

        var file = BlobStorage.Tests.Facade.FacadeTestKit.ChunkFiles(test.RootPath).Single();
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[^1] ^= 1;
        await File.WriteAllBytesAsync(file, bytes);
        test.Time.Advance(TimeSpan.FromDays(1));
        var damaged = await test.Store.RunMaintenanceAsync();
        damaged.Scrubbed.Should().BeTrue();
        damaged.ScrubProblems.Should().Be(1);
    }

    private static async Task<bool> ExistsAsync(IBlobStore store, string container, string name)
    {
        try
        {
            await store.GetPropertiesAsync(container, name);
            return true;
        }
        catch (BlobNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Wraps a metadata store so the maintenance pass's listing of containers can be held and counted.</summary>
    internal sealed class PassGate
    {
        private int _inside;

        public volatile bool Armed;
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int MaxConcurrent;
        public int Calls;
        public bool Cancelled;

        public IMetadataStore Wrap(IMetadataStore inner)
        {
            var proxy = DispatchProxy.Create<IMetadataStore, GateProxy>();
            ((GateProxy)(object)proxy).Init(inner, this);
            return proxy;
        }

        internal async Task<IReadOnlyList<ContainerProperties>> ListAsync(IMetadataStore inner, CancellationToken cancellationToken)
        {
            if (!Armed) return await inner.ListContainersAsync(cancellationToken);
            Interlocked.Increment(ref Calls);
            var inside = Interlocked.Increment(ref _inside);
            InterlockedMax(ref MaxConcurrent, inside);
            try
            {
                Entered.TrySetResult();
                try
                {
                    await Release.Task.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Cancelled = true;
                    throw;
                }

                return await inner.ListContainersAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inside);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

#pragma warning disable CA1852 // DispatchProxy needs a type it can derive from.
    internal class GateProxy : DispatchProxy
#pragma warning restore CA1852
    {
        private IMetadataStore _inner = null!;
        private PassGate _gate = null!;

        internal void Init(IMetadataStore inner, PassGate gate) => (_inner, _gate) = (inner, gate);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IMetadataStore.ListContainersAsync))
            {
                return new ValueTask<IReadOnlyList<ContainerProperties>>(_gate.ListAsync(_inner, (CancellationToken)args![0]!));
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }

    private sealed class ListLogger : ILoggerProvider
    {
        private readonly List<(string Fragment, TaskCompletionSource Logged)> _waits = [];

        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        /// <summary>Completes when a message containing <paramref name="fragment"/> is logged.</summary>
        public Task WaitForAsync(string fragment)
        {
            var logged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (Entries)
            {
                if (Entries.Any(e => e.Message.Contains(fragment, StringComparison.Ordinal))) logged.SetResult();
                else _waits.Add((fragment, logged));
            }

            return logged.Task;
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(ListLogger owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var message = formatter(state, exception);
                lock (owner.Entries)
                {
                    owner.Entries.Add((logLevel, message));
                    foreach (var (fragment, logged) in owner._waits)
                    {
                        if (message.Contains(fragment, StringComparison.Ordinal)) logged.TrySetResult();
                    }
                }
            }
        }
    }
}
