using System.Diagnostics;
using System.Reflection.Metadata;
using System.Text;
using System.Text.RegularExpressions;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Package;

/// <summary>What a user of the package gets: sources for the debugger, no machine paths, and a README whose code compiles.</summary>
[Parallelizable(ParallelScope.All)]
public partial class PackageTests
{
    private static readonly Guid EmbeddedSource = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "BlobStorage.sln"))) folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("BlobStorage.sln not found above the test folder.");
    }

    [Test]
    public void The_library_pdb_embeds_every_source_under_a_deterministic_path_and_the_binaries_hold_no_machine_path()
    {
        var bin = TestContext.CurrentContext.TestDirectory;
        using var stream = File.OpenRead(Path.Combine(bin, "BlobStorage.pdb"));
        using var provider = MetadataReaderProvider.FromPortablePdbStream(stream);
        var reader = provider.GetMetadataReader();
        var embedded = new HashSet<DocumentHandle>();
        foreach (var handle in reader.CustomDebugInformation)
        {
            var info = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(info.Kind) == EmbeddedSource && info.Parent.Kind == HandleKind.Document) embedded.Add((DocumentHandle)info.Parent);
        }

        var documents = reader.Documents.ToList();
        documents.Should().HaveCountGreaterThan(50);
        foreach (var document in documents)
        {
            var name = reader.GetString(reader.GetDocument(document).Name);
            name.Should().StartWith("/_/", "paths are mapped on every build, not only under CI");
            embedded.Should().Contain(document, $"{name} is embedded for debuggers");
        }

        var root = RepositoryRoot();
        foreach (var file in new[] { "BlobStorage.dll", "BlobStorage.pdb" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(bin, file));
            bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(root)).Should().Be(-1, $"{file} holds no absolute build path");
            bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(root)).Should().Be(-1, $"{file} holds no absolute build path");
        }
    }

    [GeneratedRegex(@"^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"^using\s+(static\s+)?[A-Za-z0-9_.]+(\s*=\s*[A-Za-z0-9_.<>]+)?;\s*$", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [Test]
    [CancelAfter(600_000)]
    public async Task Every_csharp_block_of_the_README_compiles(CancellationToken cancellationToken)
    {
        var root = RepositoryRoot();
        var readme = (await File.ReadAllTextAsync(Path.Combine(root, "README.md"), cancellationToken)).Replace("\r\n", "\n", StringComparison.Ordinal);
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();
        blocks.Should().HaveCountGreaterThanOrEqualTo(4);

        using var folder = new TempFolder("readme");
        var bin = TestContext.CurrentContext.TestDirectory;
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "Snippets.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <OutputType>Exe</OutputType>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <NoWarn>$(NoWarn);CS1998</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="BlobStorage"><HintPath>{Path.Combine(bin, "BlobStorage.dll")}</HintPath></Reference>
                <Reference Include="BlobStorage.AspNetCore"><HintPath>{Path.Combine(bin, "BlobStorage.AspNetCore.dll")}</HintPath></Reference>
                <Reference Include="BlobStorage.PostgreSql"><HintPath>{Path.Combine(bin, "BlobStorage.PostgreSql.dll")}</HintPath></Reference>
                <Reference Include="BlobStorage.Azure"><HintPath>{Path.Combine(bin, "BlobStorage.Azure.dll")}</HintPath></Reference>
                <Reference Include="BlobStorage.S3"><HintPath>{Path.Combine(bin, "BlobStorage.S3.dll")}</HintPath></Reference>
                <Reference Include="Npgsql"><HintPath>{Path.Combine(bin, "Npgsql.dll")}</HintPath></Reference>
                <Reference Include="Azure.Core"><HintPath>{Path.Combine(bin, "Azure.Core.dll")}</HintPath></Reference>
                <Reference Include="Azure.Storage.Blobs"><HintPath>{Path.Combine(bin, "Azure.Storage.Blobs.dll")}</HintPath></Reference>
                <Reference Include="AWSSDK.Core"><HintPath>{Path.Combine(bin, "AWSSDK.Core.dll")}</HintPath></Reference>
                <Reference Include="AWSSDK.S3"><HintPath>{Path.Combine(bin, "AWSSDK.S3.dll")}</HintPath></Reference>
              </ItemGroup>
            </Project>
            """, cancellationToken);
        File.Copy(Path.Combine(root, "nuget.config"), Path.Combine(folder.Path, "nuget.config"));
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "Program.cs"), "return 0;\n", cancellationToken);
        for (var i = 0; i < blocks.Count; i++)
        {
            // The block's using directives head its file; the rest is the body of a method, as top-level statements are.
            var usings = string.Join('\n', UsingDirective().Matches(blocks[i]).Select(m => m.Value.Trim()));
            var body = UsingDirective().Replace(blocks[i], "");
            await File.WriteAllTextAsync(Path.Combine(folder.Path, $"Snippet{i}.cs"), $"{usings}\n\ninternal static class Snippet{i}\n{{\n    public static async Task RunAsync(string[] args)\n    {{\n{body}\n    }}\n}}\n", cancellationToken);
        }

        var start = new ProcessStartInfo("dotnet", ["build", folder.Path, "-c", "Release", "-nologo", "-v", "q"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var build = Process.Start(start)!;
        var output = build.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = build.StandardError.ReadToEndAsync(cancellationToken);
        await build.WaitForExitAsync(cancellationToken);
        build.ExitCode.Should().Be(0, "every README block compiles:\n" + await output + await errors);
    }

    [Test]
    [CancelAfter(300_000)]
    public async Task The_library_package_depends_on_each_of_its_packages_at_the_lowest_10_0_version(CancellationToken cancellationToken)
    {
        var root = RepositoryRoot();

        // Packed from what the test run built (bin/<Configuration>/net10.0), as a user's restore would see it.
        var configuration = new DirectoryInfo(TestContext.CurrentContext.TestDirectory).Parent!.Name;
        using var folder = new TempFolder("pack");
        var start = new ProcessStartInfo("dotnet", ["pack", Path.Combine(root, "src", "BlobStorage", "BlobStorage.csproj"), "-c", configuration, "--no-build", "-o", folder.Path, "-nologo", "-v", "q"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var pack = Process.Start(start)!;
        var output = pack.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = pack.StandardError.ReadToEndAsync(cancellationToken);
        await pack.WaitForExitAsync(cancellationToken);
        pack.ExitCode.Should().Be(0, await output + await errors);

        var package = Directory.GetFiles(folder.Path, "BlobStorage.*.nupkg").Single(p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        using var zip = System.IO.Compression.ZipFile.OpenRead(package);
        using var nuspec = zip.GetEntry("BlobStorage.nuspec")!.Open();
        var document = System.Xml.Linq.XDocument.Load(nuspec);
        var dependencies = document.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);

        dependencies.Keys.Should().BeEquivalentTo(
            "Microsoft.Data.Sqlite",
            "System.IO.Pipelines",
            "System.IO.Hashing",
            "Microsoft.Extensions.DependencyInjection.Abstractions",
            "Microsoft.Extensions.Options",
            "Microsoft.Extensions.Hosting.Abstractions",
            "Microsoft.Extensions.Logging.Abstractions",
            "Microsoft.Extensions.Configuration.Abstractions",
            "Microsoft.Extensions.Diagnostics.HealthChecks",
            "Blake3");
        dependencies.Where(d => d.Key != "Blake3").Select(d => d.Value).Should().OnlyContain(v => v.StartsWith("10.0.", StringComparison.Ordinal), "a .NET 10 application's Microsoft.Extensions stack is never lifted");
        dependencies["Blake3"].Should().Be("3.0.2", "the version the chunk names were built and measured with");
    }
}
