using System.Text;
using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using BlobStorage.Urls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BlobStorage.Tests.Urls;

[Parallelizable(ParallelScope.All)]
public class BlobUrlProviderTests
{
    private static readonly BlobSigningKey Key1 = new("key1", Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef-one"));
    private static readonly BlobSigningKey Key2 = new("key2", Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef-two"));

    private static Task<TestStore> OpenAsync(Action<BlobUrlOptions>? configure = null) =>
        TestStore.OpenAsync(o =>
        {
            o.Urls.BaseAddress = new Uri("https://storage.example.com/blobs");
            o.Urls.SigningKeys.Add(Key1);
            configure?.Invoke(o.Urls);
        });

    private static BlobUrlProvider Provider(TestStore t, params BlobSigningKey[] keys) => Provider(t, null, keys);

    private static BlobUrlProvider Provider(TestStore t, string? signingKeyId, params BlobSigningKey[] keys)
    {
        var options = new BlobUrlOptions { BaseAddress = new Uri("https://storage.example.com/blobs/"), SigningKeyId = signingKeyId };
        foreach (var key in keys) options.SigningKeys.Add(key);
        return new BlobUrlProvider(t.Store, options, t.Time);
    }

    private static string WithField(Uri signed, string field, string? value)
    {
        var pairs = signed.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).ToList();
        var index = pairs.FindIndex(p => p[0] == field);
        if (value is null) pairs.RemoveAt(index);
        else if (index < 0) pairs.Add([field, value]);
        else pairs[index] = [field, value];
        return "?" + string.Join('&', pairs.Select(p => p[0] + "=" + p[1]));
    }

    private static string Field(Uri signed, string field) =>
        signed.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Single(p => p[0] == field)[1];

    // ---------------------------------------------------------------- direct and CDN URLs

    [Test]
    public async Task A_direct_url_is_the_base_the_container_and_the_name_encoded_per_segment()
    {
        await using var t = await OpenAsync();
        t.Store.Urls.GetDirectUrl("images", "cats/tabby.jpg").AbsoluteUri.Should().Be("https://storage.example.com/blobs/images/cats/tabby.jpg");
        t.Store.Urls.GetDirectUrl("images", "a b/c?d#e%f+g;h&i=j.jpg").AbsoluteUri
            .Should().Be("https://storage.example.com/blobs/images/a%20b/c%3Fd%23e%25f%2Bg%3Bh%26i%3Dj.jpg");
    }

    [TestCase("cats/tabby.jpg")]
    [TestCase("a b/c?d#e%f+g;h&i=j")]
    [TestCase("ünïcödé/日本語/😀.png")]
    [TestCase("Cafe\u0301/NFD")]
    [TestCase("%2F/%2E%2E/encoded")]
    [TestCase("x/y/z/...a/b.c")]
    [TestCase("name with 'quotes' and \"double\" and <angle> [brackets] {braces} |pipe ^caret `tick ~tilde!@$*()")]
    public async Task Every_name_round_trips_through_its_url_and_slash_stays_a_separator(string name)
    {
        await using var t = await OpenAsync();
        var url = t.Store.Urls.GetDirectUrl("images", name);
        var path = url.AbsolutePath["/blobs/images/".Length..];
        path.Split('/').Should().HaveCount(name.Split('/').Length);
        string.Join('/', path.Split('/').Select(Uri.UnescapeDataString)).Should().Be(name);
        new Uri(url.AbsoluteUri).AbsoluteUri.Should().Be(url.AbsoluteUri, "the URL is stable when parsed again");
    }

    [Test]
    public async Task Without_a_base_address_a_direct_url_is_a_configuration_error()
    {
        await using var t = await TestStore.OpenAsync();
        (FluentActions.Invoking(() => t.Store.Urls.GetDirectUrl("images", "a")).Should().Throw<BlobStorageException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.NotConfigured);
        FluentActions.Invoking(() => t.Store.Urls.GetDirectUrl("images", "/bad")).Should().Throw<ArgumentException>();
    }

    [Test]
    public async Task A_cdn_url_uses_the_custom_domain_or_the_cdn_base_with_or_without_an_edge()
    {
        await using var t = await OpenAsync(u => u.CdnBaseAddress = new Uri("https://cdn.example.com/"));
        await t.Store.CreateContainerAsync("images");
        await t.Store.CreateContainerAsync("videos");
        await t.Store.CreateContainerAsync("plain");
        await t.Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, EdgeLocations = ["us-east-1", "eu-west-1", "ap-southeast-1"], TimeToLive = TimeSpan.FromSeconds(7200), CustomDomain = "images.example.com" });
        await t.Store.SetCdnConfigurationAsync("videos", new CdnConfiguration { Enabled = true, EdgeLocations = ["eu-west-1"] });

        (await t.Store.Urls.GetCdnUrlAsync("images", "cats/tabby cat.jpg")).AbsoluteUri.Should().Be("https://images.example.com/cats/tabby%20cat.jpg");
        (await t.Store.Urls.GetCdnUrlAsync("images", "cats/tabby.jpg", "us-east-1")).AbsoluteUri.Should().Be("https://images.example.com/cats/tabby.jpg?edge=us-east-1");
        (await t.Store.Urls.GetCdnUrlAsync("videos", "intro.mp4")).AbsoluteUri.Should().Be("https://cdn.example.com/videos/intro.mp4");
        (await t.Store.Urls.GetCdnUrlAsync("videos", "intro.mp4", "eu-west-1")).AbsoluteUri.Should().Be("https://cdn.example.com/videos/intro.mp4?edge=eu-west-1");

        (await FluentActions.Awaiting(() => t.Store.Urls.GetCdnUrlAsync("plain", "a")).Should().ThrowAsync<BlobStorageException>()).Which.ErrorCode.Should().Be(BlobErrorCode.CdnNotEnabled);
        (await FluentActions.Awaiting(() => t.Store.Urls.GetCdnUrlAsync("videos", "a", "us-east-1")).Should().ThrowAsync<BlobStorageException>()).Which.ErrorCode.Should().Be(BlobErrorCode.CdnNotEnabled);
        await FluentActions.Awaiting(() => t.Store.Urls.GetCdnUrlAsync("missing", "a")).Should().ThrowAsync<ContainerNotFoundException>();
    }

    [Test]
    public async Task Without_a_custom_domain_or_a_cdn_base_a_cdn_url_is_a_configuration_error()
    {
        await using var t = await OpenAsync();
        await t.Store.CreateContainerAsync("videos");
        await t.Store.SetCdnConfigurationAsync("videos", new CdnConfiguration { Enabled = true });
        (await FluentActions.Awaiting(() => t.Store.Urls.GetCdnUrlAsync("videos", "a")).Should().ThrowAsync<BlobStorageException>())
            .Which.ErrorCode.Should().Be(BlobErrorCode.NotConfigured);
    }

    // ---------------------------------------------------------------- signed URLs

    [Test]
    public async Task A_signed_url_verifies_and_grants_exactly_its_permissions()
    {
        await using var t = await OpenAsync();
        var urls = t.Store.Urls;
        var expires = t.Time.GetUtcNow().AddHours(1);
        var signed = urls.Sign(urls.GetDirectUrl("images", "cats/tabby.jpg"), "images", "cats/tabby.jpg", BlobPermissions.Read | BlobPermissions.Delete, expires);

        signed.AbsoluteUri.Should().StartWith("https://storage.example.com/blobs/images/cats/tabby.jpg?sv=");
        var read = urls.Verify("images", "cats/tabby.jpg", signed.Query, BlobPermissions.Read);
        read.IsValid.Should().BeTrue(read.Reason);
        read.Permissions.Should().Be(BlobPermissions.Read | BlobPermissions.Delete);
        read.ExpiresOn.Should().Be(DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
        urls.Verify("images", "cats/tabby.jpg", signed.Query, BlobPermissions.Delete).IsValid.Should().BeTrue();
        urls.Verify("images", "cats/tabby.jpg", signed.Query.TrimStart('?'), BlobPermissions.Read).IsValid.Should().BeTrue("the leading '?' is optional");

        var write = urls.Verify("images", "cats/tabby.jpg", signed.Query, BlobPermissions.Write);
        write.Status.Should().Be(SignedUrlStatus.MissingPermission);
        write.Reason.Should().Contain("Write");
    }

    [Test]
    public async Task A_container_url_signed_for_listing_verifies_for_the_container_only()
    {
        await using var t = await OpenAsync();
        var urls = t.Store.Urls;
        var signed = urls.Sign(new Uri("https://storage.example.com/blobs/images"), "images", null, BlobPermissions.List, t.Time.GetUtcNow().AddMinutes(5));
        urls.Verify("images", null, signed.Query, BlobPermissions.List).IsValid.Should().BeTrue();
        urls.Verify("images", "a", signed.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.TamperedPath);
        urls.Verify("videos", null, signed.Query, BlobPermissions.List).Status.Should().Be(SignedUrlStatus.TamperedPath);

        FluentActions.Invoking(() => urls.Sign(signed, "images", null, BlobPermissions.Read, t.Time.GetUtcNow().AddMinutes(5))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => urls.Sign(signed, "images", "a", BlobPermissions.List, t.Time.GetUtcNow().AddMinutes(5))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => urls.Sign(signed, "images", "a", BlobPermissions.None, t.Time.GetUtcNow().AddMinutes(5))).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => urls.Sign(signed, "images", "a", BlobPermissions.Read, t.Time.GetUtcNow(), t.Time.GetUtcNow())).Should().Throw<ArgumentException>();
    }

    [Test]
    public async Task A_cdn_url_with_an_edge_query_is_signed_and_verifies()
    {
        await using var t = await OpenAsync();
        var urls = t.Store.Urls;
        var signed = urls.Sign(new Uri("https://images.example.com/cats/tabby.jpg?edge=us-east-1"), "images", "cats/tabby.jpg", BlobPermissions.Read, t.Time.GetUtcNow().AddMinutes(5));
        signed.Query.Should().StartWith("?edge=us-east-1&sv=");
        urls.Verify("images", "cats/tabby.jpg", signed.Query, BlobPermissions.Read).IsValid.Should().BeTrue();
    }

    private static IEnumerable<TestCaseData> Tamperings()
    {
        yield return new TestCaseData("sv", "2020-01-01", SignedUrlStatus.Malformed).SetName("version changed");
        yield return new TestCaseData("sp", "rw", SignedUrlStatus.BadSignature).SetName("permissions widened");
        yield return new TestCaseData("sp", "wr", SignedUrlStatus.Malformed).SetName("permissions out of order");
        yield return new TestCaseData("sp", null, SignedUrlStatus.Malformed).SetName("permissions removed");
        yield return new TestCaseData("st", "1000000000", SignedUrlStatus.BadSignature).SetName("start added");
        yield return new TestCaseData("se", "4102444800", SignedUrlStatus.BadSignature).SetName("expiry extended");
        yield return new TestCaseData("se", "soon", SignedUrlStatus.Malformed).SetName("expiry unreadable");
        yield return new TestCaseData("se", null, SignedUrlStatus.Malformed).SetName("expiry removed");
        yield return new TestCaseData("skid", "key9", SignedUrlStatus.UnknownKey).SetName("key id unknown");
        yield return new TestCaseData("skid", "key2", SignedUrlStatus.BadSignature).SetName("key id of another key");
        yield return new TestCaseData("sr", "AAAAAAAAAAAA", SignedUrlStatus.TamperedPath).SetName("resource hash changed");
        yield return new TestCaseData("sig", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", SignedUrlStatus.BadSignature).SetName("signature replaced");
        yield return new TestCaseData("sig", "not base64!", SignedUrlStatus.BadSignature).SetName("signature unreadable");
        yield return new TestCaseData("sig", null, SignedUrlStatus.Missing).SetName("signature removed");
    }

    [TestCaseSource(nameof(Tamperings))]
    public async Task Each_field_tampered_is_refused_with_its_reason(string field, string? value, SignedUrlStatus expected)
    {
        await using var t = await OpenAsync();
        var urls = Provider(t, "key1", Key1, Key2);
        var signed = urls.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, t.Time.GetUtcNow().AddHours(1));
        urls.Verify("images", "a.jpg", signed.Query, BlobPermissions.Read).IsValid.Should().BeTrue();

        var result = urls.Verify("images", "a.jpg", WithField(signed, field, value), BlobPermissions.Read);
        result.Status.Should().Be(expected);
        result.IsValid.Should().BeFalse();
        result.Reason.Should().NotBeNullOrWhiteSpace().And.NotContain("0123456789abcdef", "a reason never shows a secret");
        result.Permissions.Should().Be(BlobPermissions.None, "nothing is granted by a URL whose signature did not hold");
    }

    [TestCase("images", "b.jpg")]
    [TestCase("images", "A.jpg")]
    [TestCase("images", "a.jpg/x")]
    [TestCase("videos", "a.jpg")]
    public async Task A_changed_path_is_refused_as_tampered(string container, string name)
    {
        await using var t = await OpenAsync();
        var signed = t.Store.Urls.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, t.Time.GetUtcNow().AddHours(1));
        t.Store.Urls.Verify(container, name, signed.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.TamperedPath);
    }

    [Test]
    public async Task A_repeated_field_or_no_query_at_all_is_refused()
    {
        await using var t = await OpenAsync();
        var signed = t.Store.Urls.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, t.Time.GetUtcNow().AddHours(1));
        t.Store.Urls.Verify("images", "a.jpg", signed.Query + "&sp=rwdl", BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.Malformed);
        t.Store.Urls.Verify("images", "a.jpg", null, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.Missing);
        t.Store.Urls.Verify("images", "a.jpg", "", BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.Missing);
        t.Store.Urls.Verify("images", "a.jpg", "?" + new string('a', 5000), BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.Malformed);
    }

    [Test]
    public async Task Expiry_and_start_boundaries_follow_the_clock_to_the_tick()
    {
        await using var t = await OpenAsync();
        var urls = t.Store.Urls;
        var now = t.Time.GetUtcNow(); // a whole second
        var signed = urls.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, now.AddMinutes(10), now.AddMinutes(1));

        urls.Verify("images", "a.jpg", signed.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.NotYetValid);
        t.Time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        urls.Verify("images", "a.jpg", signed.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.NotYetValid);
        t.Time.Advance(TimeSpan.FromTicks(1));
        urls.Verify("images", "a.jpg", signed.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.Valid, "valid from its start");

        t.Time.Advance(TimeSpan.FromMinutes(9) - TimeSpan.FromTicks(1));
        urls.Verify("images", "a.jpg", signed.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.Valid, "one tick before its expiry");
        t.Time.Advance(TimeSpan.FromTicks(1));
        var expired = urls.Verify("images", "a.jpg", signed.Query, BlobPermissions.Read);
        expired.Status.Should().Be(SignedUrlStatus.Expired, "no longer valid at its expiry");
        expired.Reason.Should().Contain("expired");
    }

    [Test]
    public async Task A_rotated_key_keeps_old_urls_valid_until_it_is_removed()
    {
        await using var t = await OpenAsync();
        var expires = t.Time.GetUtcNow().AddHours(1);
        var before = Provider(t, Key1);
        var old = before.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, expires);
        Field(old, "skid").Should().Be("key1");

        var rotating = Provider(t, "key2", Key1, Key2);
        var fresh = rotating.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, expires);
        Field(fresh, "skid").Should().Be("key2");
        rotating.Verify("images", "a.jpg", old.Query, BlobPermissions.Read).IsValid.Should().BeTrue("the old key still verifies");
        rotating.Verify("images", "a.jpg", fresh.Query, BlobPermissions.Read).IsValid.Should().BeTrue();
        before.Verify("images", "a.jpg", fresh.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.UnknownKey);

        var after = Provider(t, Key2);
        after.Verify("images", "a.jpg", old.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.UnknownKey, "the old key was removed");
        after.Verify("images", "a.jpg", fresh.Query, BlobPermissions.Read).IsValid.Should().BeTrue();
    }

    [Test]
    public async Task Signing_without_a_key_is_a_configuration_error_and_nothing_verifies()
    {
        await using var t = await TestStore.OpenAsync();
        var thrown = FluentActions.Invoking(() => t.Store.Urls.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, t.Time.GetUtcNow().AddHours(1)))
            .Should().Throw<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.NotConfigured);
        thrown.Which.Message.Should().Contain("SigningKeys");

        await using var signer = await OpenAsync();
        var signed = signer.Store.Urls.Sign(new Uri("https://x.example/images/a.jpg"), "images", "a.jpg", BlobPermissions.Read, t.Time.GetUtcNow().AddHours(1));
        t.Store.Urls.Verify("images", "a.jpg", signed.Query, BlobPermissions.Read).Status.Should().Be(SignedUrlStatus.UnknownKey);
    }

    [Test]
    public void Keys_and_url_options_are_checked()
    {
        FluentActions.Invoking(() => new BlobSigningKey("k", new byte[31])).Should().Throw<ArgumentException>().WithMessage("*32*");
        FluentActions.Invoking(() => new BlobSigningKey("bad id", new byte[32])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new BlobSigningKey("", new byte[32])).Should().Throw<ArgumentException>();
    }

    [TestCase("duplicate")]
    [TestCase("unknown-active")]
    [TestCase("relative")]
    [TestCase("ftp")]
    [TestCase("query")]
    public async Task Bad_url_options_fail_the_start_naming_the_setting(string problem)
    {
        var act = () => TestStore.OpenAsync(o =>
        {
            switch (problem)
            {
                case "duplicate":
                    o.Urls.SigningKeys.Add(Key1);
                    o.Urls.SigningKeys.Add(new BlobSigningKey("key1", new byte[32]));
                    break;
                case "unknown-active":
                    o.Urls.SigningKeys.Add(Key1);
                    o.Urls.SigningKeyId = "key3";
                    break;
                case "relative":
                    o.Urls.BaseAddress = new Uri("/blobs", UriKind.Relative);
                    break;
                case "ftp":
                    o.Urls.CdnBaseAddress = new Uri("ftp://cdn.example.com/");
                    break;
                case "query":
                    o.Urls.BaseAddress = new Uri("https://x.example/?a=b");
                    break;
            }
        });
        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("BlobStorageOptions.Urls.");
    }

    [Test]
    public async Task AddBlobStorage_registers_the_url_provider_from_the_options()
    {
        using var folder = new TempFolder("urls-di");
        var services = new ServiceCollection();
        services.AddBlobStorage(o =>
        {
            o.RootPath = folder.Path;
            o.Urls.BaseAddress = new Uri("https://storage.example.com/");
        });
        await using var provider = services.BuildServiceProvider();
        var urls = provider.GetRequiredService<IBlobUrlProvider>();
        urls.Should().BeSameAs(provider.GetRequiredService<IBlobStore>().Urls);
        urls.GetDirectUrl("images", "a.jpg").AbsoluteUri.Should().Be("https://storage.example.com/images/a.jpg");
    }
}
