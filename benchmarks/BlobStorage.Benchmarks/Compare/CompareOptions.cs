using System.Globalization;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>What <c>compare</c> runs, from its command line.</summary>
internal sealed class CompareOptions
{
    public const string Usage = """
        usage: compare [--peers a,b] [--sizes 4k,64k,1m,64m,1g] [--ops put,get-first,get,get-raw,range,list,delete,put-dup]
                       [--tasks 1,8] [--runs N] [--quick] [--dir PATH] [--json PATH]

          --peers   file-store, file-store+sqlite, file-store-chunked (64m and 1g only), sqlite-blobs,
                    litedb, blobstorage (default: all)
          --sizes   4k, 64k, 1m, 64m, 1g (default: all; --quick: 4k, 64k, 1m)
          --ops     put, get-first (each blob just put read once, bytes only counted: the first
                    read after the puts), get (every byte hashed and checked), get-raw (bytes only
                    counted), list,
                    range (1-byte reads at random offsets, 64m and 1g, peers that read ranges),
                    delete, put-dup (64m only) (default: all; --quick: all but get-raw)
          --tasks   concurrent tasks for put and get (default: 1,8)
          --runs    runs of everything; throughput is the median of the runs (default 1)
          --quick   4k, 64k and 1m with fewer operations, shorter cells and 1,000 blobs to list
          --dir     where the temporary folder goes (default: ./.compare); removed afterwards
          --json    where all the numbers go (default: compare-results.json)
        """;

    public static readonly string[] AllPeers = ["file-store", "file-store+sqlite", "file-store-chunked", "sqlite-blobs", "litedb", "blobstorage"];

    public static readonly string[] AllOps = ["put", "get-first", "get", "get-raw", "range", "list", "delete", "put-dup"];

    public IReadOnlyList<string> Peers { get; private set; } = AllPeers;

    public IReadOnlyList<SizeSpec> Sizes { get; private set; } = [];

    public IReadOnlyList<string> Ops { get; private set; } = [];

    public IReadOnlyList<int> Tasks { get; private set; } = [1, 8];

    public int Runs { get; private set; } = 1;

    public bool Quick { get; private set; }

    public string Directory { get; private set; } = Path.Combine(Environment.CurrentDirectory, ".compare");

    public bool DirectoryIsDefault { get; private set; } = true;

    public string JsonPath { get; private set; } = "compare-results.json";

    /// <summary>How long a get or list cell runs at least (it also does at least one pass over its blobs).</summary>
    public TimeSpan CellDuration => Quick ? TimeSpan.FromSeconds(0.25) : TimeSpan.FromSeconds(1);

    /// <summary>Blobs stored for the listing: prefixes of 100 blobs each.</summary>
    public int ListBlobs => Quick ? 1_000 : 10_000;

    public bool Has(string op) => Ops.Contains(op, StringComparer.Ordinal);

    /// <summary>Parses the arguments; returns null and writes why to <paramref name="error"/> when they are wrong.</summary>
    public static CompareOptions? Parse(string[] args, out string? error)
    {
        var options = new CompareOptions();
        string[]? sizes = null;
        string[]? ops = null;
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--quick")
            {
                options.Quick = true;
                continue;
            }

            if (arg is "--help" or "-h")
            {
                error = "";
                return null;
            }

            if (i + 1 >= args.Length || !arg.StartsWith("--", StringComparison.Ordinal))
            {
                error = $"Unknown or incomplete argument '{arg}'.";
                return null;
            }

            var value = args[++i];
            switch (arg)
            {
                case "--peers":
                    options.Peers = List(value);
                    error = Unknown("peer", options.Peers, AllPeers);
                    break;
                case "--sizes":
                    sizes = List(value);
                    error = Unknown("size", sizes, SizeSpec.Labels);
                    break;
                case "--ops":
                    ops = List(value);
                    error = Unknown("operation", ops, AllOps);
                    break;
                case "--tasks":
                    var tasks = new List<int>();
                    foreach (var item in List(value))
                    {
                        if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 256)
                        {
                            error = $"--tasks takes numbers from 1 to 256; '{item}' is not one.";
                            break;
                        }

                        tasks.Add(n);
                    }

                    options.Tasks = tasks.Distinct().Order().ToArray();
                    break;
                case "--runs":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var runs) || runs is < 1 or > 99)
                    {
                        error = $"--runs takes a number from 1 to 99; '{value}' is not one.";
                    }

                    options.Runs = runs;
                    break;
                case "--dir":
                    options.Directory = Path.GetFullPath(value);
                    options.DirectoryIsDefault = false;
                    break;
                case "--json":
                    options.JsonPath = value;
                    break;
                default:
                    error = $"Unknown argument '{arg}'.";
                    break;
            }

            if (error is not null)
            {
                return null;
            }
        }

        options.Sizes = SizeSpec.Select(sizes ?? (options.Quick ? ["4k", "64k", "1m"] : SizeSpec.Labels), options.Quick);
        options.Ops = ops ?? (options.Quick ? AllOps.Where(op => op is not ("get-raw" or "get-first")).ToArray() : AllOps);
        if (options.Peers.Count == 0 || options.Sizes.Count == 0 || options.Ops.Count == 0 || options.Tasks.Count == 0)
        {
            error = "Nothing to run: --peers, --sizes, --ops and --tasks each need at least one value.";
            return null;
        }

        // The table's order, whatever the order on the command line.
        options.Peers = AllPeers.Where(options.Peers.Contains).ToArray();
        options.Ops = AllOps.Where(options.Ops.Contains).ToArray();
        return options;
    }

    private static string[] List(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();

    private static string? Unknown(string what, IEnumerable<string> given, IReadOnlyCollection<string> known)
    {
        var bad = given.FirstOrDefault(g => !known.Contains(g, StringComparer.Ordinal));
        return bad is null ? null : $"Unknown {what} '{bad}'; expected one of {string.Join(", ", known)}.";
    }
}
