// BlobStorage benchmarks.
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks                  every BenchmarkDotNet benchmark
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- bdn --job short --filter '*.Upload'
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- roundtrip [--size-mib N] [--dir PATH]
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- multipart [--size-mib N] [--dir PATH]
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- edge-zipf [blobs] [reads]       edge hit ratio, Zipf s = 1.0
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- compression [--corpus DIR] [--seconds N]  codecs for the archive tiers
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- backup [--size-mib N] [--blob-mib M] [--dir PATH] [--copy-dir PATH]   full and 1 % incremental backup times
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- backends [--count N] [--rounds R] [--azurite CONN] [--s3 URL] [--pg CONN] [--process-ops M]   1 MiB upload/download MB/s per metadata + chunk backend, 3 processes against 1
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- flush-cost [--size-kib N] [--count N] [--dir PATH]   each step of one durable put, timed
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- small-ops [--op put|list] [--size-kib N] [--tasks N] [--seconds S] [--dir PATH]   CPU, allocations and GCs per small put or listing
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- read-floor [--sizes 64k,1m,64m,1g] [--tasks 1,8] [--seconds S] [--dir PATH]   the most a read that checks every block can reach against the file store
//   dotnet run -c Release --project benchmarks/BlobStorage.Benchmarks -- compare [--quick] [--peers a,b] [--sizes 4k,1m] ...
using BenchmarkDotNet.Running;
using BlobStorage.Benchmarks;
using BlobStorage.Benchmarks.Compare;

if (args.Length > 0 && args[0] == "roundtrip")
{
    return await RoundTripCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "multipart")
{
    return await MultipartCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "edge-zipf")
{
    return await EdgeZipfCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "scrub")
{
    return await ScrubCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "compression")
{
    return CompressionCommand.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "backup")
{
    return await BackupCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "backends")
{
    return await BackendsCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "flush-cost")
{
    return await FlushCostCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "small-ops")
{
    return await SmallOpsCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "read-floor")
{
    return ReadFloorCommand.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "compare")
{
    return await CompareCommand.RunAsync(args[1..]);
}

var switcherArgs = args.Length > 0 && args[0] == "bdn" ? args[1..] : args;

// Without arguments BenchmarkDotNet would ask which benchmark to run; run them all instead.
if (switcherArgs.Length == 0)
{
    switcherArgs = ["--filter", "*"];
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(UploadDownloadBenchmarks).Assembly).Run(switcherArgs);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
