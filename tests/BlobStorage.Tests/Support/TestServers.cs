using System.Net.Sockets;

namespace BlobStorage.Tests.Support;

/// <summary>
/// The servers the scale-out tests run against: PostgreSQL, Azurite (the Azure Storage emulator) and an S3-compatible
/// server, each on 127.0.0.1. <c>bash .ci/servers start</c> installs and starts all three on the ports below (and
/// <c>bash .ci/servers stop</c> stops them); an environment variable overrides each address. A test that needs a server
/// it cannot reach is ignored with a message that says how to start it, except under <c>CI=true</c>, where it fails.
/// </summary>
internal static class TestServers
{
    /// <summary>The PostgreSQL port <c>.ci/servers</c> listens on.</summary>
    public const int PostgreSqlPort = 55432;

    /// <summary>The Azurite blob service port <c>.ci/servers</c> listens on.</summary>
    public const int AzuritePort = 10000;

    /// <summary>The S3-compatible server's port <c>.ci/servers</c> listens on.</summary>
    public const int S3Port = 4568;

    /// <summary>Azurite's well-known development account key (public, the same in every copy of the emulator).</summary>
    public const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The S3 server's access key and secret (s3rver accepts <c>S3RVER</c>/<c>S3RVER</c>).</summary>
    public const string S3AccessKey = "S3RVER";

    /// <inheritdoc cref="S3AccessKey"/>
    public const string S3SecretKey = "S3RVER";

    private const string StartHint = "start the test servers with `bash .ci/servers start` (PostgreSQL, Azurite and s3rver on 127.0.0.1; `bash .ci/servers stop` stops them)";

    /// <summary>An Npgsql connection string to a database the tests may create schemas in (<c>BLOBSTORAGE_TEST_POSTGRESQL</c>).</summary>
    public static string PostgreSqlConnectionString =>
        Environment.GetEnvironmentVariable("BLOBSTORAGE_TEST_POSTGRESQL")
        ?? $"Host=127.0.0.1;Port={PostgreSqlPort};Username=postgres;Database=postgres;Pooling=true;Timeout=15";

    /// <summary>An Azure Storage connection string to Azurite's blob service (<c>BLOBSTORAGE_TEST_AZURITE</c>).</summary>
    public static string AzuriteConnectionString =>
        Environment.GetEnvironmentVariable("BLOBSTORAGE_TEST_AZURITE")
        ?? $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};BlobEndpoint=http://127.0.0.1:{AzuritePort}/devstoreaccount1;";

    /// <summary>The S3-compatible server's service URL (<c>BLOBSTORAGE_TEST_S3</c>).</summary>
    public static Uri S3ServiceUrl =>
        new(Environment.GetEnvironmentVariable("BLOBSTORAGE_TEST_S3") ?? $"http://127.0.0.1:{S3Port}");

    /// <summary>Ignores the test (fails it under <c>CI=true</c>) unless PostgreSQL accepts connections.</summary>
    public static void RequirePostgreSql() => Require("PostgreSQL", "BLOBSTORAGE_TEST_POSTGRESQL", PostgreSqlEndpoint());

    /// <summary>Ignores the test (fails it under <c>CI=true</c>) unless Azurite accepts connections.</summary>
    public static void RequireAzurite() => Require("Azurite", "BLOBSTORAGE_TEST_AZURITE", AzuriteEndpoint());

    /// <summary>Ignores the test (fails it under <c>CI=true</c>) unless the S3 server accepts connections.</summary>
    public static void RequireS3() => Require("the S3 server (s3rver)", "BLOBSTORAGE_TEST_S3", (S3ServiceUrl.Host, S3ServiceUrl.Port));

    private static (string Host, int Port) PostgreSqlEndpoint()
    {
        string host = "127.0.0.1";
        int port = PostgreSqlPort;
        foreach (var part in PostgreSqlConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2)
            {
                continue;
            }

            var key = pair[0].Trim();
            if (key.Equals("Host", StringComparison.OrdinalIgnoreCase) || key.Equals("Server", StringComparison.OrdinalIgnoreCase))
            {
                host = pair[1].Trim();
            }
            else if (key.Equals("Port", StringComparison.OrdinalIgnoreCase) && int.TryParse(pair[1].Trim(), out var parsed))
            {
                port = parsed;
            }
        }

        return (host, port);
    }

    private static (string Host, int Port) AzuriteEndpoint()
    {
        foreach (var part in AzuriteConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length == 2 && pair[0].Trim().Equals("BlobEndpoint", StringComparison.OrdinalIgnoreCase))
            {
                var uri = new Uri(pair[1].Trim());
                return (uri.Host, uri.Port);
            }
        }

        return ("127.0.0.1", AzuritePort);
    }

    private static void Require(string server, string variable, (string Host, int Port) endpoint)
    {
        if (CanConnect(endpoint.Host, endpoint.Port))
        {
            return;
        }

        var message = $"{server} is not reachable at {endpoint.Host}:{endpoint.Port} ({variable} overrides the address): {StartHint}.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("Under CI=true a missing test server is a failure. " + message);
        }

        Assert.Ignore(message);
    }

    private static bool CanConnect(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(host, port).Wait(TimeSpan.FromSeconds(2)) && client.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
