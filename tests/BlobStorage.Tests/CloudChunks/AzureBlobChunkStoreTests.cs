using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using BlobStorage.Abstractions;
using BlobStorage.Azure;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.CloudChunks;

/// <summary>The chunk store contract and the cloud store's own tests against Azurite, in a container made for the fixture and deleted after it.</summary>
public sealed class AzureBlobChunkStoreTests : CloudChunkStoreTests
{
    private BlobContainerClient? _container;

    private BlobContainerClient Container => _container ?? throw new InvalidOperationException("The container is made in OneTimeSetUp.");

    [OneTimeSetUp]
    public async Task CreateContainerAsync()
    {
        TestServers.RequireAzurite();
        _container = new BlobContainerClient(TestServers.AzuriteConnectionString, "bs-chunks-" + Guid.NewGuid().ToString("N")[..16]);
        await _container.CreateAsync();
    }

    [OneTimeTearDown]
    public async Task DeleteContainerAsync()
    {
        if (_container is not null) await _container.DeleteIfExistsAsync();
    }

    protected override IChunkStore OpenStore(string prefix) =>
        new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = TestServers.AzuriteConnectionString, ContainerName = Container.Name, Prefix = prefix });

    protected override async Task<byte[]> GetObjectAsync(string key) =>
        (await Container.GetBlobClient(key).DownloadContentAsync()).Value.Content.ToArray();

    protected override async Task PutObjectAsync(string key, byte[] bytes) =>
        await Container.GetBlobClient(key).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);

    protected override IChunkStore OpenMissingContainerStore() =>
        new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = TestServers.AzuriteConnectionString, ContainerName = "missing-" + Guid.NewGuid().ToString("N")[..16], MaxRetryAttempts = 1, RetryDelay = TimeSpan.FromMilliseconds(1) });

    protected override IChunkStore OpenWrongCredentialsStore()
    {
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var connection = Regex.Replace(TestServers.AzuriteConnectionString, "AccountKey=[^;]*", "AccountKey=" + wrongKey);
        return new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = connection, ContainerName = Container.Name, MaxRetryAttempts = 1, RetryDelay = TimeSpan.FromMilliseconds(1) });
    }

    protected override IChunkStore OpenUnreachableStore(int port, int retries) =>
        new AzureBlobChunkStore(new AzureBlobChunkStoreOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={TestServers.AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;",
            ContainerName = "unreachable",
            MaxRetryAttempts = retries,
            RetryDelay = TimeSpan.FromMilliseconds(1),
        });

    protected override (string Host, int Port) ServerEndpoint
    {
        get
        {
            var endpoint = new Uri(Regex.Match(TestServers.AzuriteConnectionString, "BlobEndpoint=([^;]*)").Groups[1].Value);
            return (endpoint.Host, endpoint.Port);
        }
    }

    protected override IChunkStore OpenStoreThrough(int port, string prefix) =>
        new AzureBlobChunkStore(new AzureBlobChunkStoreOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={TestServers.AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;",
            ContainerName = Container.Name,
            Prefix = prefix,
            MaxRetryAttempts = 1,
            RetryDelay = TimeSpan.FromMilliseconds(1),
        });

    protected override string KeyOf(IChunkStore store, ChunkId id) => ((AzureBlobChunkStore)store).KeyOf(id);

    [TestCase("ab", "3 to 63")]
    [TestCase("Chunks", "lowercase")]
    [TestCase("-chunks", "starts or ends")]
    [TestCase("chunks--a", "two hyphens")]
    [TestCase("chunks_a", "lowercase")]
    public void A_container_name_against_Azures_rule_is_refused_naming_it(string name, string rule)
    {
        var open = () => new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = TestServers.AzuriteConnectionString, ContainerName = name });

        open.Should().Throw<ArgumentException>().Which.Message.Should().Contain("AzureBlobChunkStoreOptions.ContainerName").And.Contain(rule);
    }

    [Test]
    public void Settings_out_of_range_are_refused_naming_them()
    {
        AzureBlobChunkStoreOptions Valid() => new() { ConnectionString = TestServers.AzuriteConnectionString, ContainerName = "chunks" };
        var cases = new (Action<AzureBlobChunkStoreOptions> Change, string Setting)[]
        {
            (o => o.ConnectionString = " ", "ConnectionString"),
            (o => o.MaxRetryAttempts = -1, "MaxRetryAttempts"),
            (o => o.MaxRetryAttempts = 21, "MaxRetryAttempts"),
            (o => o.RetryDelay = TimeSpan.FromMilliseconds(-1), "RetryDelay"),
            (o => o.RequestTimeout = TimeSpan.Zero, "RequestTimeout"),
            (o => o.Prefix = "/absolute", "Prefix"),
            (o => o.Prefix = "a/../b", "Prefix"),
            (o => o.Prefix = "with space", "Prefix"),
        };
        foreach (var (change, setting) in cases)
        {
            var options = Valid();
            change(options);
            var open = () => new AzureBlobChunkStore(options);
            open.Should().Throw<ArgumentException>().Which.Message.Should().Contain("AzureBlobChunkStoreOptions." + setting);
        }
    }

    [Test]
    public void A_connection_string_that_cannot_be_parsed_is_StoreUnavailable_naming_the_setting()
    {
        var open = () => new AzureBlobChunkStore(new AzureBlobChunkStoreOptions { ConnectionString = "not a connection string", ContainerName = "chunks" });

        var thrown = open.Should().Throw<BlobStorageException>().Which;
        thrown.ErrorCode.Should().Be(BlobErrorCode.StoreUnavailable);
        thrown.Message.Should().Contain("AzureBlobChunkStoreOptions.ConnectionString");
    }
}
