using System.Text.Json;
using BlobStorage.Cli;
using BlobStorage.Tests.Support;
using Spectre.Console.Testing;

namespace BlobStorage.Tests.Cli;

/// <summary>The blobstorage tool through its command line, in process, on Spectre.Console.Testing's console.</summary>
[Parallelizable(ParallelScope.All)]
public class CliTests
{
    private sealed record Result(int ExitCode, string Output, string Error)
    {
        public JsonElement Json => JsonDocument.Parse(Output).RootElement;
    }

    private static async Task<Result> RunAsync(params string[] args)
    {
        var console = new TestConsole();
        console.Profile.Width = 200;
        var error = new StringWriter();
        var code = await CliApp.RunAsync(args, console, error);
        return new Result(code, console.Output, error.ToString());
    }

    private static async Task<string> NewStoreAsync(TempFolder folder)
    {
        var store = Path.Combine(folder.Path, "store");
        (await RunAsync("init", "--store", store)).ExitCode.Should().Be(0);
        (await RunAsync("containers", "create", "data", "--store", store)).ExitCode.Should().Be(0);
        return store;
    }

    [Test]
    public async Task Put_a_folder_list_it_get_it_back_and_stat_a_blob()
    {
        using var folder = new TempFolder("cli");
        var store = await NewStoreAsync(folder);
        var source = Path.Combine(folder.Path, "source");
        Directory.CreateDirectory(Path.Combine(source, "sub", "deeper"));
        var files = new Dictionary<string, byte[]>
        {
            ["a.bin"] = Streams.Bytes((2 * 1024 * 1024) + 3),
            ["sub/b.txt"] = Streams.Bytes(10, seed: 2),
            ["sub/deeper/c.json"] = Streams.Bytes(70000, seed: 3),
        };
        foreach (var (name, bytes) in files) await File.WriteAllBytesAsync(Path.Combine(source, name), bytes);

        var put = await RunAsync("put", "data", source, "--prefix", "up/", "--parallel", "3", "--store", store);
        put.ExitCode.Should().Be(0, put.Error);
        put.Output.Should().Contain("Uploaded 3 file(s)");

        var ls = await RunAsync("ls", "data", "--prefix", "up/", "--json", "--store", store);
        ls.Json.GetProperty("blobs").EnumerateArray().Select(b => b.GetProperty("name").GetString()).Should().Equal("up/a.bin", "up/sub/b.txt", "up/sub/deeper/c.json");
        var folders = await RunAsync("ls", "data", "--prefix", "up/", "--delimiter", "/", "--json", "--store", store);
        folders.Json.GetProperty("prefixes").EnumerateArray().Select(p => p.GetString()).Should().Equal("up/sub/");
        var longList = await RunAsync("ls", "data", "-l", "--store", store);
        longList.Output.Should().Contain("2097155").And.Contain("up/sub/deeper/c.json").And.Contain("application/json");

        var target = Path.Combine(folder.Path, "out");
        var get = await RunAsync("get", "data", "up/", target, "--prefix", "--store", store);
        get.ExitCode.Should().Be(0, get.Error);
        foreach (var (name, bytes) in files) (await File.ReadAllBytesAsync(Path.Combine(target, "up", name))).Should().Equal(bytes);
        (await RunAsync("get", "data", "up/", target, "--prefix", "--store", store)).ExitCode.Should().Be(ExitCodes.Refused, "files exist and --overwrite was not given");

        var stat = await RunAsync("stat", "data", "up/sub/b.txt", "--json", "--store", store);
        stat.Json.GetProperty("size").GetInt64().Should().Be(10);
        stat.Json.GetProperty("contentType").GetString().Should().Be("text/plain");
        stat.Json.GetProperty("contentHash").GetString().Should().Be(Streams.Sha256(files["sub/b.txt"]));

        var rm = await RunAsync("rm", "data", "--prefix", "up/sub/", "--store", store);
        rm.ExitCode.Should().Be(0);
        (await RunAsync("ls", "data", "--store", store)).Output.Trim().Should().Be("up/a.bin");
        (await RunAsync("rm", "data", "up/sub/b.txt", "--store", store)).ExitCode.Should().Be(ExitCodes.NotFound);
    }

    [Test]
    public async Task A_store_path_that_does_not_exist_is_a_clear_error_with_exit_code_3_and_nothing_is_written()
    {
        using var folder = new TempFolder("cli");
        var missing = Path.Combine(folder.Path, "nothing", "here");
        foreach (var args in new[] { new[] { "ls", "data" }, ["containers", "list"], ["stats"], ["verify"], ["gc"], ["backup", Path.Combine(folder.Path, "b")] })
        {
            var result = await RunAsync([.. args, "--store", missing]);
            result.ExitCode.Should().Be(ExitCodes.NotFound, string.Join(' ', args));
            result.Error.Should().Contain($"The store folder '{missing}' does not exist");
        }

        Directory.Exists(Path.Combine(folder.Path, "nothing")).Should().BeFalse();
        Directory.Exists(Path.Combine(folder.Path, "b")).Should().BeFalse();
    }

    [Test]
    public async Task Usage_errors_exit_2_and_missing_things_exit_3()
    {
        using var folder = new TempFolder("cli");
        var store = await NewStoreAsync(folder);
        (await RunAsync("frobnicate", "--store", store)).ExitCode.Should().Be(ExitCodes.Usage);
        (await RunAsync("ls")).Error.Should().Contain("--store");
        (await RunAsync("containers", "create", "Bad_Name", "--store", store)).ExitCode.Should().Be(ExitCodes.Usage);
        (await RunAsync("put", "data", Path.Combine(folder.Path, "no-such-file"), "--store", store)).ExitCode.Should().Be(ExitCodes.NotFound);
        (await RunAsync("ls", "data", "--json", "--store", store)).Json.GetProperty("blobs").GetArrayLength().Should().Be(0, "a missing path uploads nothing");
        (await RunAsync("stat", "data", "missing", "--store", store)).ExitCode.Should().Be(ExitCodes.NotFound);
        (await RunAsync("ls", "nocontainer", "--store", store)).ExitCode.Should().Be(ExitCodes.NotFound);
        (await RunAsync("containers", "create", "data", "--store", store)).ExitCode.Should().Be(ExitCodes.Refused);
        (await RunAsync("containers", "create", "data", "--if-not-exists", "--store", store)).ExitCode.Should().Be(0);
        (await RunAsync("init", "--store", store)).ExitCode.Should().Be(ExitCodes.Refused);
    }

    [Test]
    public async Task Backup_and_restore_through_the_tool_and_a_refused_destination()
    {
        using var folder = new TempFolder("cli");
        var store = await NewStoreAsync(folder);
        var file = Path.Combine(folder.Path, "photo.png");
        await File.WriteAllBytesAsync(file, Streams.Bytes(300000));
        (await RunAsync("put", "data", file, "--quiet", "--store", store)).ExitCode.Should().Be(0);

        var backup = Path.Combine(folder.Path, "backup");
        var first = await RunAsync("backup", backup, "--json", "--store", store);
        first.ExitCode.Should().Be(0, first.Error);
        first.Json.GetProperty("blobs").GetInt64().Should().Be(1);
        (await RunAsync("backup", backup, "--json", "--store", store)).Json.GetProperty("incremental").GetBoolean().Should().BeTrue();

        var restored = Path.Combine(folder.Path, "restored");
        (await RunAsync("restore", backup, "--store", restored)).ExitCode.Should().Be(0);
        (await RunAsync("verify", "--content", "--store", restored)).ExitCode.Should().Be(0);
        var stats = await RunAsync("stats", "--json", "--store", restored);
        stats.Json.GetProperty("totalBlobs").GetInt64().Should().Be(1);
        var target = Path.Combine(folder.Path, "photo-again.png");
        (await RunAsync("get", "data", "photo.png", target, "--store", restored)).ExitCode.Should().Be(0);
        (await File.ReadAllBytesAsync(target)).Should().Equal(await File.ReadAllBytesAsync(file));

        var busy = Path.Combine(folder.Path, "busy");
        Directory.CreateDirectory(busy);
        await File.WriteAllTextAsync(Path.Combine(busy, "keep.txt"), "mine");
        var refused = await RunAsync("backup", busy, "--store", store);
        refused.ExitCode.Should().Be(ExitCodes.Refused);
        refused.Error.Should().Contain("not a backup of this store");
        Directory.EnumerateFileSystemEntries(busy).Should().ContainSingle();
    }

    [Test]
    public async Task Verify_exits_4_when_a_chunk_is_missing_and_gc_reports_as_json()
    {
        using var folder = new TempFolder("cli");
        var store = await NewStoreAsync(folder);
        var file = Path.Combine(folder.Path, "big.bin");
        await File.WriteAllBytesAsync(file, Streams.Bytes(200000));
        (await RunAsync("put", "data", file, "--quiet", "--store", store)).ExitCode.Should().Be(0);
        (await RunAsync("gc", "--json", "--store", store)).Json.GetProperty("chunksCollected").GetInt64().Should().Be(0);

        foreach (var chunk in Directory.EnumerateFiles(Path.Combine(store, "chunks"), "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f).Length == 64)) File.Delete(chunk);
        var verify = await RunAsync("verify", "--json", "--store", store);
        verify.ExitCode.Should().Be(ExitCodes.VerifyFailed);
        verify.Json.GetProperty("isClean").GetBoolean().Should().BeFalse();
        verify.Json.GetProperty("missingChunks").GetArrayLength().Should().Be(1);
    }
}
