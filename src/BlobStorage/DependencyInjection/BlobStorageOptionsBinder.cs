using System.Globalization;
using BlobStorage.Abstractions;
using BlobStorage.Replication;
using BlobStorage.Tiers;
using BlobStorage.Urls;
using Microsoft.Extensions.Configuration;

namespace BlobStorage.DependencyInjection;

/// <summary>
/// Binds <see cref="BlobStorageOptions"/> from a configuration section by hand, without reflection (so the package stays
/// trimmable and AOT-safe), and records every problem instead of stopping at the first: a key that is no setting, a
/// value of the wrong type. Keys compare case-insensitively, as configuration keys do. The problems are reported with
/// the validation's when the host starts (<see cref="BlobStorageOptions.BindingProblems"/>).
/// </summary>
internal static class BlobStorageOptionsBinder
{
    private delegate void Setter(BlobStorageOptions options, IConfigurationSection section, List<string> problems);

    private static readonly Dictionary<string, Setter> Settings = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(BlobStorageOptions.RootPath)] = (o, s, p) => { if (Text(s, p) is { } v) o.RootPath = v; },
        [nameof(BlobStorageOptions.ChunkSize)] = (o, s, p) => { if (Int(s, p) is { } v) o.ChunkSize = v; },
        [nameof(BlobStorageOptions.InlineThreshold)] = (o, s, p) => { if (Int(s, p) is { } v) o.InlineThreshold = v; },
        [nameof(BlobStorageOptions.UploadConcurrency)] = (o, s, p) => { if (Int(s, p) is { } v) o.UploadConcurrency = v; },
        [nameof(BlobStorageOptions.SynchronousMode)] = (o, s, p) => { if (Enum<SynchronousMode>(s, p) is { } v) o.SynchronousMode = v; },
        [nameof(BlobStorageOptions.BusyTimeout)] = (o, s, p) => { if (Time(s, p) is { } v) o.BusyTimeout = v; },
        [nameof(BlobStorageOptions.GarbageCollectionGracePeriod)] = (o, s, p) => { if (Time(s, p) is { } v) o.GarbageCollectionGracePeriod = v; },
        [nameof(BlobStorageOptions.MaintenanceInterval)] = (o, s, p) => { if (Time(s, p) is { } v) o.MaintenanceInterval = v; },
        [nameof(BlobStorageOptions.AccessFlushInterval)] = (o, s, p) => { if (Time(s, p) is { } v) o.AccessFlushInterval = v; },
        [nameof(BlobStorageOptions.AccessFlushBatchSize)] = (o, s, p) => { if (Int(s, p) is { } v) o.AccessFlushBatchSize = v; },
        [nameof(BlobStorageOptions.MultipartMinimumPartSize)] = (o, s, p) => { if (Long(s, p) is { } v) o.MultipartMinimumPartSize = v; },
        [nameof(BlobStorageOptions.AbortIncompleteMultipartUploadsAfter)] = (o, s, p) => { if (Time(s, p) is { } v) o.AbortIncompleteMultipartUploadsAfter = v; },
        [nameof(BlobStorageOptions.MaxOrphanShare)] = (o, s, p) => { if (Double(s, p) is { } v) o.MaxOrphanShare = v; },
        [nameof(BlobStorageOptions.OrphanDeletionFloor)] = (o, s, p) => { if (Int(s, p) is { } v) o.OrphanDeletionFloor = v; },
        [nameof(BlobStorageOptions.ReservedDiskSpace)] = (o, s, p) => { if (Long(s, p) is { } v) o.ReservedDiskSpace = v; },
        [nameof(BlobStorageOptions.EdgeCacheCapacity)] = (o, s, p) => { if (Long(s, p) is { } v) o.EdgeCacheCapacity = v; },
        [nameof(BlobStorageOptions.EdgeLocations)] = (o, s, p) =>
        {
            foreach (var item in s.GetChildren())
            {
                if (Text(item, p) is { } v) o.EdgeLocations.Add(v);
            }
        },
        [nameof(BlobStorageOptions.Urls)] = (o, s, p) => BindUrls(o.Urls, s, p),
        [nameof(BlobStorageOptions.ScrubInterval)] = (o, s, p) => { if (Time(s, p) is { } v) o.ScrubInterval = v; },
        [nameof(BlobStorageOptions.Topology)] = (o, s, p) => BindTopology(o.Topology, s, p),
        [nameof(BlobStorageOptions.StorageClasses)] = (o, s, p) =>
        {
            foreach (var item in s.GetChildren())
            {
                if (Enum<StorageClass>(item, p, item.Key) is not { } storageClass) continue;
                foreach (var setting in item.GetChildren())
                {
                    if (!setting.Key.Equals(nameof(StorageClassOptions.Compression), StringComparison.OrdinalIgnoreCase))
                        p.Add($"{setting.Path} is not a setting of a storage class; the setting is Compression.");
                    else if (Enum<ChunkCompression>(setting, p) is { } compression)
                        o.StorageClasses[storageClass].Compression = compression;
                }
            }
        },
    };

    private static void BindTopology(StorageTopologyOptions topology, IConfigurationSection section, List<string> problems)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "LOCALREGION":
                    if (Text(child, problems) is { } local) topology.LocalRegion = local;
                    break;
                case "RETRYINITIALDELAY":
                    if (Time(child, problems) is { } initial) topology.RetryInitialDelay = initial;
                    break;
                case "RETRYMAXDELAY":
                    if (Time(child, problems) is { } max) topology.RetryMaxDelay = max;
                    break;
                case "REPLICATEAFTERUPLOAD":
                    if (Bool(child, problems) is { } after) topology.ReplicateAfterUpload = after;
                    break;
                case "REGIONS":
                    foreach (var regionSection in child.GetChildren()) BindRegion(topology, regionSection, problems);
                    break;
                default:
                    problems.Add($"{child.Path} is not a setting of {nameof(StorageTopologyOptions)}; the settings are LocalRegion, Regions, RetryInitialDelay, RetryMaxDelay, ReplicateAfterUpload.");
                    break;
            }
        }
    }

    private static void BindRegion(StorageTopologyOptions topology, IConfigurationSection section, List<string> problems)
    {
        var region = new StorageRegionOptions();
        foreach (var child in section.GetChildren())
        {
            if (child.Key.Equals("Name", StringComparison.OrdinalIgnoreCase))
            {
                region.Name = Text(child, problems) ?? "";
            }
            else if (child.Key.Equals("Nodes", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var nodeSection in child.GetChildren())
                {
                    var node = new StorageNodeOptions();
                    foreach (var setting in nodeSection.GetChildren())
                    {
                        switch (setting.Key.ToUpperInvariant())
                        {
                            case "NAME":
                                node.Name = Text(setting, problems) ?? "";
                                break;
                            case "PATH":
                                node.Path = Text(setting, problems);
                                break;
                            case "ISCOLD":
                                node.IsCold = Bool(setting, problems) ?? false;
                                break;
                            default:
                                problems.Add($"{setting.Path} is not a setting of a storage node; the settings are Name, Path, IsCold.");
                                break;
                        }
                    }

                    region.Nodes.Add(node);
                }
            }
            else
            {
                problems.Add($"{child.Path} is not a setting of a storage region; the settings are Name, Nodes.");
            }
        }

        topology.Regions.Add(region);
    }

    /// <summary>Binds what <paramref name="section"/> holds onto <paramref name="options"/>, adding each problem to <see cref="BlobStorageOptions.BindingProblems"/>.</summary>
    public static void Bind(IConfiguration section, BlobStorageOptions options)
    {
        var problems = options.BindingProblems;
        foreach (var child in section.GetChildren())
        {
            if (Settings.TryGetValue(child.Key, out var set)) set(options, child, problems);
            else problems.Add($"{child.Path} is not a setting of {nameof(BlobStorageOptions)}; the settings are {string.Join(", ", Settings.Keys)}.");
        }
    }

    private static void BindUrls(BlobUrlOptions urls, IConfigurationSection section, List<string> problems)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "BASEADDRESS":
                    if (Address(child, problems) is { } baseAddress) urls.BaseAddress = baseAddress;
                    break;
                case "CDNBASEADDRESS":
                    if (Address(child, problems) is { } cdn) urls.CdnBaseAddress = cdn;
                    break;
                case "SIGNINGKEYID":
                    urls.SigningKeyId = Text(child, problems);
                    break;
                case "SIGNINGKEYS":
                    foreach (var key in child.GetChildren())
                    {
                        if (SigningKey(key, problems) is { } signingKey) urls.SigningKeys.Add(signingKey);
                    }

                    break;
                default:
                    problems.Add($"{child.Path} is not a setting of {nameof(BlobUrlOptions)}; the settings are BaseAddress, CdnBaseAddress, SigningKeyId, SigningKeys.");
                    break;
            }
        }
    }

    private static BlobSigningKey? SigningKey(IConfigurationSection section, List<string> problems)
    {
        string? id = null, secret = null;
        foreach (var child in section.GetChildren())
        {
            if (child.Key.Equals("Id", StringComparison.OrdinalIgnoreCase)) id = Text(child, problems);
            else if (child.Key.Equals("Secret", StringComparison.OrdinalIgnoreCase)) secret = Text(child, problems);
            else problems.Add($"{child.Path} is not a setting of a signing key; a key has an Id and a Secret (Base64).");
        }

        if (id is null || secret is null)
        {
            problems.Add($"{section.Path} must have an Id and a Secret (Base64).");
            return null;
        }

        var bytes = new byte[secret.Length];
        if (!Convert.TryFromBase64String(secret, bytes, out var length))
        {
            problems.Add($"{section.Path}:Secret is not Base64.");
            return null;
        }

        try
        {
            return new BlobSigningKey(id, bytes.AsSpan(0, length));
        }
        catch (ArgumentException ex)
        {
            problems.Add($"{section.Path}: {ex.Message}");
            return null;
        }
    }

    private static string? Text(IConfigurationSection section, List<string> problems)
    {
        if (section.Value is { } value) return value;
        problems.Add($"{section.Path} must be a single value, not a section.");
        return null;
    }

    private static int? Int(IConfigurationSection section, List<string> problems) =>
        Parse<int>(section, problems, "a whole number", static v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : null);

    private static long? Long(IConfigurationSection section, List<string> problems) =>
        Parse<long>(section, problems, "a whole number", static v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : null);

    private static double? Double(IConfigurationSection section, List<string> problems) =>
        Parse<double>(section, problems, "a number", static v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? r : null);

    private static TimeSpan? Time(IConfigurationSection section, List<string> problems) =>
        Parse<TimeSpan>(section, problems, "a time span such as 00:05:00", static v => TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var r) ? r : null);

    private static bool? Bool(IConfigurationSection section, List<string> problems) =>
        Parse<bool>(section, problems, "true or false", static v => bool.TryParse(v, out var r) ? r : null);

    private static TEnum? Enum<TEnum>(IConfigurationSection section, List<string> problems, string? text = null)
        where TEnum : struct, Enum
    {
        if (text is null) return Enum<TEnum>(section, problems);
        if (System.Enum.TryParse<TEnum>(text, ignoreCase: true, out var r) && System.Enum.IsDefined(r) && !text.AsSpan().ContainsAnyInRange('0', '9')) return r;
        problems.Add($"{section.Path}: '{text}' is not one of {string.Join(", ", System.Enum.GetNames<TEnum>())}.");
        return null;
    }

    private static TEnum? Enum<TEnum>(IConfigurationSection section, List<string> problems)
        where TEnum : struct, Enum =>
        Parse<TEnum>(section, problems, $"one of {string.Join(", ", System.Enum.GetNames<TEnum>())}", static v => System.Enum.TryParse<TEnum>(v, ignoreCase: true, out var r) && System.Enum.IsDefined(r) && !v.AsSpan().ContainsAnyInRange('0', '9') ? r : null);

    private static Uri? Address(IConfigurationSection section, List<string> problems) =>
        ParseUri(section, problems, "an absolute URI", static v => Uri.TryCreate(v, UriKind.Absolute, out var r) ? r : null);

    private static T? Parse<T>(IConfigurationSection section, List<string> problems, string expected, Func<string, T?> parse)
        where T : struct
    {
        if (Text(section, problems) is not { } text) return null;
        if (parse(text.Trim()) is { } value) return value;
        problems.Add($"{section.Path} must be {expected}; it is '{text}'.");
        return null;
    }

    private static Uri? ParseUri(IConfigurationSection section, List<string> problems, string expected, Func<string, Uri?> parse)
    {
        if (Text(section, problems) is not { } text) return null;
        if (parse(text.Trim()) is { } value) return value;
        problems.Add($"{section.Path} must be {expected}; it is '{text}'.");
        return null;
    }
}
