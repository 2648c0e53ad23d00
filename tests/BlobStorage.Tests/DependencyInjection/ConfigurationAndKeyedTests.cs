using BlobStorage.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BlobStorage.Tests.DependencyInjection;

[Parallelizable(ParallelScope.All)]
public class ConfigurationAndKeyedTests
{
    private static IConfigurationSection Section(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("BlobStorage:" + v.Key, v.Value)))
            .Build()
            .GetSection("BlobStorage");

    private static HostApplicationBuilder NewHostBuilder()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        return builder;
    }

    [Test]
    public async Task Options_bind_from_a_configuration_section_with_every_kind_of_value()
    {
        using var folder = new TempFolder("di-config");
        var services = new ServiceCollection();
        services.AddBlobStorage(Section(
            ("RootPath", folder.Path),
            ("chunkSize", "131072"),
            ("SynchronousMode", "Normal"),
            ("GarbageCollectionGracePeriod", "00:02:00"),
            ("MaxOrphanShare", "0.25"),
            ("EdgeLocations:0", "us-east-1"),
            ("EdgeLocations:1", "eu-west-1"),
            ("Urls:BaseAddress", "https://blobs.example.com/"),
            ("Urls:SigningKeyId", "k1"),
            ("Urls:SigningKeys:0:Id", "k1"),
            ("Urls:SigningKeys:0:Secret", Convert.ToBase64String(new byte[32]))));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<BlobStorageOptions>>().Value;
        options.RootPath.Should().Be(folder.Path);
        options.ChunkSize.Should().Be(131072);
        options.SynchronousMode.Should().Be(SynchronousMode.Normal);
        options.GarbageCollectionGracePeriod.Should().Be(TimeSpan.FromMinutes(2));
        options.MaxOrphanShare.Should().Be(0.25);
        options.EdgeLocations.Should().Equal("us-east-1", "eu-west-1");
        options.Urls.BaseAddress.Should().Be(new Uri("https://blobs.example.com/"));
        options.Urls.SigningKeys.Should().ContainSingle().Which.Id.Should().Be("k1");

        var store = provider.GetRequiredService<IBlobStore>();
        (await store.CreateContainerIfNotExistsAsync("data")).Should().NotBeNull();
    }

    [Test]
    public async Task A_bad_section_fails_the_start_with_every_problem_in_one_error_naming_each_key()
    {
        var builder = NewHostBuilder();
        builder.Services.AddBlobStorage(Section(
            ("RootPath", ""),
            ("ChunkSize", "big"),
            ("SynchronousMode", "Sometimes"),
            ("Colour", "blue"),
            ("UploadConcurrency", "99")));
        using var host = builder.Build();

        var failure = (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        failure.Failures.Should().HaveCount(5);
        failure.Message.Should().Contain("BlobStorage:ChunkSize must be a whole number; it is 'big'")
            .And.Contain("BlobStorage:SynchronousMode must be one of Full, Normal")
            .And.Contain("BlobStorage:Colour is not a setting of BlobStorageOptions")
            .And.Contain("BlobStorageOptions.RootPath is required")
            .And.Contain("BlobStorageOptions.UploadConcurrency must be between 1 and 16; it is 99");
    }

    public sealed class TwoStores([FromKeyedServices("images")] IBlobStore images, [FromKeyedServices("logs")] IBlobStore logs)
    {
        public IBlobStore Images { get; } = images;

        public IBlobStore Logs { get; } = logs;
    }

    [Test]
    public async Task Keyed_stores_resolve_with_FromKeyedServices_each_in_its_own_folder_and_open_at_start()
    {
        using var images = new TempFolder("di-images");
        using var logs = new TempFolder("di-logs");
        var builder = NewHostBuilder();
        builder.Services.AddKeyedBlobStorage("images", o => o.RootPath = images.Path);
        builder.Services.AddKeyedBlobStorage("logs", Section(("RootPath", logs.Path)));
        builder.Services.AddSingleton<TwoStores>();
        using var host = builder.Build();
        await host.StartAsync();

        File.Exists(Path.Combine(images.Path, "metadata.db")).Should().BeTrue("the keyed store opened when the host started");
        var both = host.Services.GetRequiredService<TwoStores>();
        both.Images.Should().NotBeSameAs(both.Logs);
        await both.Images.CreateContainerAsync("photos");
        (await both.Logs.ContainerExistsAsync("photos")).Should().BeFalse();
        host.Services.GetService<IBlobStore>().Should().BeNull("no unkeyed store was registered");
        await host.StopAsync();
    }

    [Test]
    public async Task A_keyed_store_without_a_root_path_fails_the_start_naming_its_key()
    {
        using var good = new TempFolder("di-good");
        var builder = NewHostBuilder();
        builder.Services.AddKeyedBlobStorage("good", o => o.RootPath = good.Path);
        builder.Services.AddKeyedBlobStorage("archive", _ => { });
        using var host = builder.Build();

        var failure = (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        failure.Message.Should().Contain("Blob store 'archive': BlobStorageOptions.RootPath is required");
        failure.Message.Should().NotContain("'good'");
    }

    [Test]
    public async Task The_builder_configures_the_store_it_was_returned_for()
    {
        using var folder = new TempFolder("di-builder");
        var services = new ServiceCollection();
        services.AddKeyedBlobStorage("k", o => o.RootPath = folder.Path).Configure(o => o.ChunkSize = 65536);
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptionsMonitor<BlobStorageOptions>>().Get("k").ChunkSize.Should().Be(65536);
        provider.GetKeyedService<IBlobStore>("other").Should().BeNull();
    }
}
