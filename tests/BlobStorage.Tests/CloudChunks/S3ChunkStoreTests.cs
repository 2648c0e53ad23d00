using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using BlobStorage.Abstractions;
using BlobStorage.S3;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.CloudChunks;

/// <summary>The chunk store contract and the cloud store's own tests against the S3 server, in a bucket made for the fixture and deleted after it.</summary>
public sealed class S3ChunkStoreTests : CloudChunkStoreTests
{
    private AmazonS3Client? _admin;
    private string _bucket = "";

    private AmazonS3Client Admin => _admin ?? throw new InvalidOperationException("The client is made in OneTimeSetUp.");

    /// <summary>A client for the test server, as the store's own would be made (path style, checksums only where required).</summary>
    internal static AmazonS3Client TestClient(string accessKey = TestServers.S3AccessKey, string secretKey = TestServers.S3SecretKey) =>
        new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = TestServers.S3ServiceUrl.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    /// <summary>Options for a store in <paramref name="bucket"/> on the test server.</summary>
    internal static S3ChunkStoreOptions TestOptions(string bucket, string? prefix = null) => new()
    {
        BucketName = bucket,
        KeyPrefix = prefix,
        ServiceUrl = TestServers.S3ServiceUrl,
        AccessKey = TestServers.S3AccessKey,
        SecretKey = TestServers.S3SecretKey,
        ForcePathStyle = true,
    };

    /// <summary>Deletes every object of a bucket, then the bucket.</summary>
    internal static async Task DeleteBucketAsync(IAmazonS3 client, string bucket)
    {
        string? continuation = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = continuation });
            foreach (var item in page.S3Objects ?? []) await client.DeleteObjectAsync(bucket, item.Key);
            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);
        await client.DeleteBucketAsync(bucket);
    }

    [OneTimeSetUp]
    public async Task CreateBucketAsync()
    {
        TestServers.RequireS3();
        _admin = TestClient();
        _bucket = "bs-chunks-" + Guid.NewGuid().ToString("N")[..16];
        await _admin.PutBucketAsync(_bucket);
    }

    [OneTimeTearDown]
    public async Task DeleteBucketAsync()
    {
        if (_admin is null) return;
        try
        {
            await DeleteBucketAsync(_admin, _bucket);
        }
        finally
        {
            _admin.Dispose();
        }
    }

    protected override IChunkStore OpenStore(string prefix) => new S3ChunkStore(TestOptions(_bucket, prefix));

    protected override async Task<byte[]> GetObjectAsync(string key)
    {
        using var response = await Admin.GetObjectAsync(_bucket, key);
        return await Streams.ReadAllAsync(response.ResponseStream);
    }

    protected override async Task PutObjectAsync(string key, byte[] bytes) =>
        await Admin.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, InputStream = new MemoryStream(bytes), UseChunkEncoding = false });

    protected override IChunkStore OpenMissingContainerStore()
    {
        var options = TestOptions("missing-" + Guid.NewGuid().ToString("N")[..16]);
        options.MaxRetryAttempts = 1;
        options.RetryDelay = TimeSpan.FromMilliseconds(1);
        return new S3ChunkStore(options);
    }

    protected override IChunkStore OpenWrongCredentialsStore()
    {
        var options = TestOptions(_bucket);
        options.AccessKey = "WRONGKEY";
        options.SecretKey = "WRONGSECRET";
        options.MaxRetryAttempts = 1;
        options.RetryDelay = TimeSpan.FromMilliseconds(1);
        return new S3ChunkStore(options);
    }

    protected override IChunkStore OpenUnreachableStore(int port, int retries)
    {
        var options = TestOptions("unreachable");
        options.ServiceUrl = new Uri($"http://127.0.0.1:{port}");
        options.MaxRetryAttempts = retries;
        options.RetryDelay = TimeSpan.FromMilliseconds(1);
        return new S3ChunkStore(options);
    }

    protected override (string Host, int Port) ServerEndpoint => (TestServers.S3ServiceUrl.Host, TestServers.S3ServiceUrl.Port);

    protected override IChunkStore OpenStoreThrough(int port, string prefix)
    {
        var options = TestOptions(_bucket, prefix);
        options.ServiceUrl = new Uri($"http://127.0.0.1:{port}");
        options.MaxRetryAttempts = 1;
        options.RetryDelay = TimeSpan.FromMilliseconds(1);
        return new S3ChunkStore(options);
    }

    protected override string KeyOf(IChunkStore store, ChunkId id) => ((S3ChunkStore)store).KeyOf(id);

    [TestCase("ab", "3 to 63")]
    [TestCase("Chunks", "lowercase")]
    [TestCase("chunks.", "starts or ends")]
    [TestCase("chunks..a", "two dots")]
    [TestCase("192.168.1.1", "IP address")]
    [TestCase("xn--chunks", "reserves")]
    public void A_bucket_name_against_S3s_rule_is_refused_naming_it(string name, string rule)
    {
        var open = () => new S3ChunkStore(TestOptions(name));

        open.Should().Throw<ArgumentException>().Which.Message.Should().Contain("S3ChunkStoreOptions.BucketName").And.Contain(rule);
    }

    [Test]
    public void Settings_out_of_range_are_refused_naming_them()
    {
        var cases = new (Action<S3ChunkStoreOptions> Change, string Setting)[]
        {
            (o => o.MaxRetryAttempts = -1, "MaxRetryAttempts"),
            (o => o.RetryDelay = TimeSpan.FromMinutes(2), "RetryDelay"),
            (o => o.RequestTimeout = TimeSpan.FromMilliseconds(1), "RequestTimeout"),
            (o => o.ServiceUrl = new Uri("ftp://127.0.0.1/"), "ServiceUrl"),
            (o => o.Region = "", "Region"),
            (o => o.SecretKey = null, "AccessKey"),
            (o => o.KeyPrefix = "a//b", "KeyPrefix"),
        };
        foreach (var (change, setting) in cases)
        {
            var options = TestOptions("chunks");
            change(options);
            var open = () => new S3ChunkStore(options);
            open.Should().Throw<ArgumentException>().Which.Message.Should().Contain("S3ChunkStoreOptions." + setting);
        }
    }
}
