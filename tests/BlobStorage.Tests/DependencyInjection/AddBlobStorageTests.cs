using BlobStorage.Abstractions;
using BlobStorage.Chunks.FileSystem;
using BlobStorage.Tests.Facade;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BlobStorage.Tests.DependencyInjection;

[Parallelizable(ParallelScope.All)]
public class AddBlobStorageTests
{
    private static HostApplicationBuilder NewHostBuilder()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        return builder;
    }

    [Test]
    public async Task Resolves_the_store_and_every_service_behind_it_as_singletons()
    {
        using var folder = new TempFolder("di");
        var services = new ServiceCollection();
        var returned = services.AddBlobStorage(o => o.RootPath = folder.Path);
        returned.Services.Should().BeSameAs(services);

        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });

        var store = provider.GetRequiredService<IBlobStore>();
        provider.GetRequiredService<IBlobStore>().Should().BeSameAs(store);
        provider.GetRequiredService<IMetadataStore>().Should().NotBeNull();
        provider.GetRequiredService<IChunkStore>().Should().BeOfType<FileSystemChunkStore>();
        provider.GetRequiredService<IReplicator>().Should().NotBeNull();
        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(TimeProvider.System);
        provider.GetRequiredService<IOptions<BlobStorageOptions>>().Value.RootPath.Should().Be(folder.Path);

        await store.CreateContainerAsync("data");
        var content = Streams.Bytes(1000);
        await store.UploadBytesAsync("data", "blob", content);
        (await store.DownloadBytesAsync("data", "blob")).Should().Equal(content);
        File.Exists(Path.Combine(folder.Path, "metadata.db")).Should().BeTrue();
    }

    [Test]
    public async Task A_TimeProvider_registered_before_wins()
    {
        using var folder = new TempFolder("di");
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddBlobStorage(o => o.RootPath = folder.Path);
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IBlobStore>();
        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(clock);

        (await store.CreateContainerAsync("data")).CreatedOn.Should().Be(clock.GetUtcNow());
        clock.Advance(TimeSpan.FromDays(1));
        var blob = await store.UploadBytesAsync("data", "blob", [1]);
        blob.CreatedOn.Should().Be(new DateTimeOffset(2030, 1, 3, 3, 4, 5, TimeSpan.Zero));
    }

    [Test]
    public async Task A_chunk_store_registered_before_wins()
    {
        using var folder = new TempFolder("di");
        using var elsewhere = new TempFolder("di-chunks");
        var services = new ServiceCollection();
        services.AddSingleton<IChunkStore>(_ => new FileSystemChunkStore(elsewhere.Path));
        services.AddBlobStorage(o => o.RootPath = folder.Path);
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IBlobStore>();
        await store.CreateContainerAsync("data");
        // Larger than the inline threshold (64 KiB), smaller than a chunk (4 MiB): one chunk file.
        var content = Streams.Bytes(100_000);
        await store.UploadBytesAsync("data", "blob", content);

        var id = Streams.Sha256(content);
        File.Exists(Path.Combine(elsewhere.Path, id[..2], id)).Should().BeTrue();
        File.Exists(FacadeTestKit.ChunkPath(folder.Path, id)).Should().BeFalse();
        (await store.DownloadBytesAsync("data", "blob")).Should().Equal(content);
    }

    [Test]
    public void AddBlobStorage_twice_registers_each_service_once()
    {
        var services = new ServiceCollection();
        services.AddBlobStorage(o => o.RootPath = "a");
        services.AddBlobStorage(o => o.RootPath = "b");

        services.Count(d => d.ServiceType == typeof(IBlobStore)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IMetadataStore)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IChunkStore)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IReplicator)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(TimeProvider)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(2, "the opener and the maintenance service");
    }

    [Test]
    public void AddBlobStorage_checks_its_arguments()
    {
        FluentActions.Invoking(() => ((IServiceCollection)null!).AddBlobStorage(_ => { })).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new ServiceCollection().AddBlobStorage((Action<BlobStorageOptions>)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new ServiceCollection().AddBlobStorage((Microsoft.Extensions.Configuration.IConfiguration)null!)).Should().Throw<ArgumentNullException>();
    }

    [Test]
    public async Task A_generic_host_opens_the_store_when_it_starts()
    {
        using var folder = new TempFolder("di");
        var builder = NewHostBuilder();
        builder.Services.AddBlobStorage(o => o.RootPath = folder.Path);
        using var host = builder.Build();

        File.Exists(Path.Combine(folder.Path, "metadata.db")).Should().BeFalse("nothing is opened before the host starts");
        await host.StartAsync();

        File.Exists(Path.Combine(folder.Path, "metadata.db")).Should().BeTrue("the store opens at start");
        Directory.Exists(Path.Combine(folder.Path, "chunks")).Should().BeTrue();
        var store = host.Services.GetRequiredService<IBlobStore>();
        await store.CreateContainerAsync("data");
        await store.UploadBytesAsync("data", "blob", [1, 2, 3]);
        (await store.DownloadBytesAsync("data", "blob")).Should().Equal(1, 2, 3);

        await host.StopAsync();
    }

    [Test]
    public async Task A_generic_host_start_fails_on_a_store_it_cannot_open()
    {
        using var folder = new TempFolder("di");
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "metadata.db"), "this is not a SQLite database, and it is long enough to have a header");
        var builder = NewHostBuilder();
        builder.Services.AddBlobStorage(o => o.RootPath = folder.Path);
        using var host = builder.Build();

        var thrown = await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
    }

    public static IEnumerable<TestCaseData> InvalidOptions()
    {
        static TestCaseData Case(string setting, Action<BlobStorageOptions> configure) => new TestCaseData(setting, configure).SetName("Invalid option: " + setting);

        yield return Case("RootPath", o => o.RootPath = "");
        yield return Case("ChunkSize", o => o.ChunkSize = 1000);
        yield return Case("UploadConcurrency", o => o.UploadConcurrency = 0);
        yield return Case("GarbageCollectionGracePeriod", o => o.GarbageCollectionGracePeriod = TimeSpan.FromSeconds(-1));
        yield return Case("BusyTimeout", o => o.BusyTimeout = TimeSpan.Zero);
        yield return Case("MaintenanceInterval", o => o.MaintenanceInterval = TimeSpan.Zero);
        yield return Case("AccessFlushInterval", o => o.AccessFlushInterval = TimeSpan.FromSeconds(-5));
        yield return Case("AccessFlushBatchSize", o => o.AccessFlushBatchSize = 0);
        yield return Case("SynchronousMode", o => o.SynchronousMode = (SynchronousMode)42);
    }

    [TestCaseSource(nameof(InvalidOptions))]
    public async Task Invalid_options_fail_host_start_naming_the_setting(string setting, Action<BlobStorageOptions> configure)
    {
        using var folder = new TempFolder("di");
        var builder = NewHostBuilder();
        builder.Services.AddBlobStorage(o =>
        {
            o.RootPath = folder.Path;
            configure(o);
        });
        using var host = builder.Build();

        var thrown = await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>();

        thrown.Which.Message.Should().Contain(setting);
        File.Exists(Path.Combine(folder.Path, "metadata.db")).Should().BeFalse("a store with bad options is never opened");
    }

    [TestCaseSource(nameof(InvalidOptions))]
    public async Task Invalid_options_fail_the_builder_naming_the_setting(string setting, Action<BlobStorageOptions> configure)
    {
        using var folder = new TempFolder("builder");

        var thrown = await FluentActions.Awaiting(() => new BlobStoreBuilder(folder.Path).Configure(configure).OpenAsync()).Should().ThrowAsync<OptionsValidationException>();

        thrown.Which.Message.Should().Contain(setting);
        folder.Files().Should().BeEmpty();
    }

    [Test]
    public async Task Disposing_the_provider_releases_the_folder_for_the_next_one()
    {
        using var folder = new TempFolder("di");
        ServiceProvider Build()
        {
            var services = new ServiceCollection();
            services.AddBlobStorage(o => o.RootPath = folder.Path);
            return services.BuildServiceProvider();
        }

        var first = Build();
        var store = first.GetRequiredService<IBlobStore>();
        await store.CreateContainerAsync("data");
        await store.UploadBytesAsync("data", "blob", [4, 5, 6]);
        await store.DownloadBytesAsync("data", "blob");

        // While the first holds the folder, a second cannot open it.
        await using (var rival = Build())
        {
            var refused = await FluentActions.Awaiting(async () => await rival.GetRequiredService<IBlobStore>().GetContainerAsync("data")).Should().ThrowAsync<BlobStorageException>();
            refused.Which.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        }

        await first.DisposeAsync();
        await FluentActions.Awaiting(() => store.GetContainerAsync("data")).Should().ThrowAsync<ObjectDisposedException>();

        await using var second = Build();
        var reopened = second.GetRequiredService<IBlobStore>();
        (await reopened.GetPropertiesAsync("data", "blob")).AccessCount.Should().Be(1, "the first store flushed its access counts when disposed");
        (await reopened.DownloadBytesAsync("data", "blob")).Should().Equal(4, 5, 6);
    }

    [Test]
    public async Task Disposing_the_host_releases_the_folder_for_the_next_one()
    {
        using var folder = new TempFolder("di");
        IHost Build()
        {
            var builder = NewHostBuilder();
            builder.Services.AddBlobStorage(o => o.RootPath = folder.Path);
            return builder.Build();
        }

        using (var first = Build())
        {
            await first.StartAsync();
            var store = first.Services.GetRequiredService<IBlobStore>();
            await store.CreateContainerAsync("data");
            await first.StopAsync();
        }

        using var second = Build();
        await second.StartAsync();
        (await second.Services.GetRequiredService<IBlobStore>().GetContainerAsync("data")).Name.Should().Be("data");
        await second.StopAsync();
    }

    [Test]
    public async Task Disposing_the_provider_synchronously_releases_the_folder_too()
    {
        using var folder = new TempFolder("di");
        var services = new ServiceCollection();
        services.AddBlobStorage(o => o.RootPath = folder.Path);
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IBlobStore>().CreateContainerAsync("data");

        // Many hosts dispose their container with a using statement, synchronously.
        FluentActions.Invoking(provider.Dispose).Should().NotThrow();

        await using var next = await new BlobStoreBuilder(folder.Path).OpenAsync();
        (await next.GetContainerAsync("data")).Name.Should().Be("data");
    }
}
