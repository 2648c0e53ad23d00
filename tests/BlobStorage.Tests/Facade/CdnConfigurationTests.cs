using BlobStorage.Abstractions;
using BlobStorage.Tests.Support;
using Microsoft.Extensions.Options;

namespace BlobStorage.Tests.Facade;

[Parallelizable(ParallelScope.All)]
public class CdnConfigurationTests
{
    private static readonly CdnConfiguration Images = new()
    {
        Enabled = true,
        EdgeLocations = ["us-east-1", "eu-west-1", "ap-southeast-1"],
        TimeToLive = TimeSpan.FromSeconds(7200),
        CustomDomain = "images.example.com",
    };

    [Test]
    public async Task Set_and_get_through_the_store_survive_a_restart()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("images");
        (await t.Store.GetCdnConfigurationAsync("images")).Enabled.Should().BeFalse();

        var stored = await t.Store.SetCdnConfigurationAsync("images", Images);
        stored.Should().BeEquivalentTo(Images);

        await t.ReopenAsync();
        (await t.Store.GetCdnConfigurationAsync("images")).Should().BeEquivalentTo(Images);
    }

    [Test]
    public async Task A_missing_container_throws_ContainerNotFound()
    {
        await using var t = await TestStore.OpenAsync();
        await FluentActions.Awaiting(() => t.Store.GetCdnConfigurationAsync("missing")).Should().ThrowAsync<ContainerNotFoundException>();
        await FluentActions.Awaiting(() => t.Store.SetCdnConfigurationAsync("missing", Images)).Should().ThrowAsync<ContainerNotFoundException>();
    }

    private static IEnumerable<TestCaseData> BadConfigurations()
    {
        yield return new TestCaseData(new CdnConfiguration { TimeToLive = TimeSpan.FromSeconds(-1) }, "TimeToLive").SetName("negative TTL");
        yield return new TestCaseData(new CdnConfiguration { TimeToLive = TimeSpan.FromDays(366) }, "TimeToLive").SetName("TTL over a year");
        yield return new TestCaseData(new CdnConfiguration { MaxCacheableSize = -1 }, "MaxCacheableSize").SetName("negative cacheable size");
        yield return new TestCaseData(new CdnConfiguration { EdgeLocations = ["US-East-1"] }, "Edge location").SetName("uppercase edge");
        yield return new TestCaseData(new CdnConfiguration { EdgeLocations = ["us--east"] }, "Edge location").SetName("double hyphen edge");
        yield return new TestCaseData(new CdnConfiguration { EdgeLocations = [""] }, "Edge location").SetName("empty edge");
        yield return new TestCaseData(new CdnConfiguration { EdgeLocations = ["a", "a"] }, "twice").SetName("duplicate edge");
        yield return new TestCaseData(new CdnConfiguration { CustomDomain = "https://images.example.com" }, "CustomDomain").SetName("domain with scheme");
        yield return new TestCaseData(new CdnConfiguration { CustomDomain = "images.example.com:8080" }, "CustomDomain").SetName("domain with port");
        yield return new TestCaseData(new CdnConfiguration { CustomDomain = "localhost" }, "CustomDomain").SetName("single label domain");
        yield return new TestCaseData(new CdnConfiguration { CustomDomain = "Images.Example.com" }, "CustomDomain").SetName("uppercase domain");
        yield return new TestCaseData(new CdnConfiguration { CustomDomain = "-a.example.com" }, "CustomDomain").SetName("label starting with hyphen");
        yield return new TestCaseData(new CdnConfiguration { CustomDomain = "images.example.com/path" }, "CustomDomain").SetName("domain with path");
        yield return new TestCaseData(new CdnConfiguration { CustomDomain = "10.0.0.1" }, "CustomDomain").SetName("ip address");
        yield return new TestCaseData(new CdnConfiguration { CacheControl = "public\r\nX-Evil: 1" }, "CacheControl").SetName("cache control with CRLF");
        yield return new TestCaseData(new CdnConfiguration { CacheControl = "" }, "CacheControl").SetName("empty cache control");
    }

    [TestCaseSource(nameof(BadConfigurations))]
    public async Task A_bad_setting_throws_ArgumentException_naming_the_rule_and_changes_nothing(CdnConfiguration configuration, string rule)
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("images");
        await t.Store.SetCdnConfigurationAsync("images", Images);

        var thrown = await FluentActions.Awaiting(() => t.Store.SetCdnConfigurationAsync("images", configuration)).Should().ThrowAsync<ArgumentException>();
        thrown.Which.Message.Should().Contain(rule);
        thrown.Which.ParamName.Should().Be("configuration");
        (await t.Store.GetCdnConfigurationAsync("images")).Should().BeEquivalentTo(Images);
    }

    [Test]
    public async Task An_edge_the_store_does_not_know_is_refused_with_UnknownEdgeLocation()
    {
        await using var t = await TestStore.OpenAsync(o =>
        {
            o.EdgeLocations.Add("us-east-1");
            o.EdgeLocations.Add("eu-west-1");
        });
        await t.Store.CreateContainerAsync("images");

        var thrown = await FluentActions.Awaiting(() => t.Store.SetCdnConfigurationAsync("images", new CdnConfiguration { EdgeLocations = ["us-east-1", "mars-north-1"] }))
            .Should().ThrowAsync<BlobStorageException>();
        thrown.Which.ErrorCode.Should().Be(BlobErrorCode.UnknownEdgeLocation);
        thrown.Which.Message.Should().Contain("mars-north-1").And.Contain("us-east-1");
        (await t.Store.GetCdnConfigurationAsync("images")).Enabled.Should().BeFalse();

        await t.Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, EdgeLocations = ["eu-west-1"] });
        (await t.Store.GetCdnConfigurationAsync("images")).EdgeLocations.Should().Equal("eu-west-1");
    }

    [Test]
    public async Task A_malformed_configured_edge_fails_the_options_naming_the_setting()
    {
        var act = () => TestStore.OpenAsync(o => o.EdgeLocations.Add("Not An Edge"));
        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("EdgeLocations");
    }

    [Test]
    public async Task The_stored_configuration_is_a_copy_the_caller_cannot_change_afterwards()
    {
        await using var t = await TestStore.OpenAsync();
        await t.Store.CreateContainerAsync("images");
        var edges = new List<string> { "us-east-1" };
        var stored = await t.Store.SetCdnConfigurationAsync("images", new CdnConfiguration { Enabled = true, EdgeLocations = edges });
        edges.Add("eu-west-1");
        stored.EdgeLocations.Should().Equal("us-east-1");
        (await t.Store.GetCdnConfigurationAsync("images")).EdgeLocations.Should().Equal("us-east-1");
    }
}
