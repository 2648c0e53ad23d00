using System.Globalization;

namespace BlobStorage.ScaleHost;

/// <summary>
/// <c>ScaleHost --roles writer,reader,collector,crasher --pg CONNECTION --schema NAME --root DIR
/// (--chunks DIR | --azurite CONNECTION --azure-container NAME) [--ops N] [--seed S] [--names K] [--container C]
/// [--grace-ms M] [--size-kb B]</c>.
/// Every role named runs concurrently in this process over one store; each does N operations on K shared names.
/// </summary>
internal sealed class HostArguments
{
    public required IReadOnlyList<string> Roles { get; init; }

    public required string PostgreSql { get; init; }

    public required string Schema { get; init; }

    public required string Root { get; init; }

    public string? ChunkFolder { get; init; }

    public string? Azurite { get; init; }

    public string? AzureContainer { get; init; }

    public int Operations { get; init; } = 50;

    public int Seed { get; init; } = 1;

    public int Names { get; init; } = 8;

    public string Container { get; init; } = "shared";

    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromMilliseconds(500);

    public int MaxSizeKb { get; init; } = 160;

    public static readonly string[] KnownRoles = ["writer", "reader", "collector", "crasher"];

    public static HostArguments? Parse(string[] args, out string? error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                error = $"Expected '--name value' pairs, found '{args[i]}'.";
                return null;
            }

            values[args[i][2..]] = args[++i];
        }

        string? Get(string key) => values.TryGetValue(key, out var v) ? v : null;
        int Int(string key, int fallback, int minimum)
        {
            if (Get(key) is not { } text) return fallback;
            if (!int.TryParse(text, CultureInfo.InvariantCulture, out var n) || n < minimum)
            {
                throw new FormatException($"--{key} must be an integer of at least {minimum}, found '{text}'.");
            }

            return n;
        }

        try
        {
            var roles = (Get("roles") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (roles.Length == 0 || roles.Any(r => !KnownRoles.Contains(r)))
            {
                throw new FormatException($"--roles must list some of {string.Join(", ", KnownRoles)}, found '{Get("roles")}'.");
            }

            var parsed = new HostArguments
            {
                Roles = roles,
                PostgreSql = Get("pg") ?? throw new FormatException("--pg (a PostgreSQL connection string) is required."),
                Schema = Get("schema") ?? throw new FormatException("--schema is required."),
                Root = Get("root") ?? throw new FormatException("--root (this process's own folder) is required."),
                ChunkFolder = Get("chunks"),
                Azurite = Get("azurite"),
                AzureContainer = Get("azure-container"),
                Operations = Int("ops", 50, 0),
                Seed = Int("seed", 1, 0),
                Names = Int("names", 8, 1),
                Container = Get("container") ?? "shared",
                GracePeriod = TimeSpan.FromMilliseconds(Int("grace-ms", 500, 0)),
                MaxSizeKb = Int("size-kb", 160, 1),
            };
            if ((parsed.ChunkFolder is null) == (parsed.Azurite is null) || (parsed.Azurite is not null && parsed.AzureContainer is null))
            {
                throw new FormatException("Give the shared chunk store as either --chunks DIR or --azurite CONNECTION with --azure-container NAME.");
            }

            error = null;
            return parsed;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }
}
