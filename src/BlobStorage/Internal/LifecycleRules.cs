using System.Text;
using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>Checks a container's lifecycle rules, naming the setting a bad one breaks; and decides what they do to one blob.</summary>
internal static class LifecycleRules
{
    public const int MaxRules = 100;
    public const int MaxDays = 36_500;
    private const int MaxNameLength = 64;

    /// <summary>The rules as a list, or an <see cref="ArgumentException"/> naming the first bad setting (<c>rules[2].DaysAfter</c>).</summary>
    public static IReadOnlyList<LifecycleRule> Validate(IEnumerable<LifecycleRule> rules, string paramName)
    {
        ArgumentNullException.ThrowIfNull(rules, paramName);
        var list = rules.ToList();
        if (list.Count > MaxRules)
        {
            throw new ArgumentException($"A container has at most {MaxRules} lifecycle rules; {list.Count} were given.", paramName);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var rule = list[i] ?? throw new ArgumentNullException($"{paramName}[{i}]", "A lifecycle rule must not be null.");
            var at = $"{paramName}[{i}]";
            if (string.IsNullOrEmpty(rule.Name) || rule.Name.Length > MaxNameLength || !rule.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                throw new ArgumentException($"A lifecycle rule's name is 1 to {MaxNameLength} letters, digits, '-', '_' or '.'; it is '{rule.Name}'.", $"{at}.Name");
            }

            if (!names.Add(rule.Name))
            {
                throw new ArgumentException($"Two lifecycle rules are named '{rule.Name}'; names are unique in a container.", $"{at}.Name");
            }

            if (rule.Prefix is { } prefix && (Encoding.UTF8.GetByteCount(prefix) > BlobNames.MaxBlobNameBytes || prefix.Any(char.IsControl) || !IsValidUnicode(prefix)))
            {
                throw new ArgumentException($"A lifecycle rule's prefix is valid Unicode without control characters, at most {BlobNames.MaxBlobNameBytes} bytes, as blob names are.", $"{at}.Prefix");
            }

            if (rule.DaysAfter is < 0 or > MaxDays)
            {
                throw new ArgumentOutOfRangeException($"{at}.DaysAfter", rule.DaysAfter, $"A lifecycle rule acts 0 to {MaxDays} days after its basis; it says {rule.DaysAfter}.");
            }

            if (!Enum.IsDefined(rule.Basis))
            {
                throw new ArgumentException($"{(int)rule.Basis} is not a defined LifecycleBasis.", $"{at}.Basis");
            }

            switch (rule.Action)
            {
                case LifecycleAction.SetStorageClass:
                    if (rule.StorageClass is not { } target || !Enum.IsDefined(target))
                    {
                        throw new ArgumentException($"A SetStorageClass rule names the class it moves blobs to; it gives {(rule.StorageClass is { } c ? ((int)c).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")}.", $"{at}.StorageClass");
                    }

                    if (target == StorageClass.Standard)
                    {
                        throw new ArgumentException("Lifecycle rules move blobs to colder classes only, and no class is hotter than Standard: the rule would never act.", $"{at}.StorageClass");
                    }

                    break;
                case LifecycleAction.Delete:
                    if (rule.StorageClass is not null)
                    {
                        throw new ArgumentException("A Delete rule moves nothing: its StorageClass must be null.", $"{at}.StorageClass");
                    }

                    if (rule.Basis != LifecycleBasis.LastModified)
                    {
                        throw new ArgumentException("A Delete rule counts its days from the last modification only (LifecycleBasis.LastModified), so that reading a blob never keeps it past its retention.", $"{at}.Basis");
                    }

                    break;
                default:
                    throw new ArgumentException($"{(int)rule.Action} is not a defined LifecycleAction.", $"{at}.Action");
            }
        }

        // A move counted from the last modification that a delete of the same blobs always comes before would never happen.
        for (var i = 0; i < list.Count; i++)
        {
            var move = list[i];
            if (move.Action != LifecycleAction.SetStorageClass || move.Basis != LifecycleBasis.LastModified) continue;
            foreach (var delete in list)
            {
                if (delete.Action == LifecycleAction.Delete && Overlap(move.Prefix, delete.Prefix) && move.DaysAfter >= delete.DaysAfter)
                {
                    throw new ArgumentException(
                        $"Rule '{move.Name}' moves blobs to {move.StorageClass} {move.DaysAfter} days after their last modification, but rule '{delete.Name}' deletes them after {delete.DaysAfter} days: the move would never happen. Move them earlier or delete them later.",
                        $"{paramName}[{i}].DaysAfter");
                }
            }
        }

        return list;
    }

    /// <summary>What the rules do to a blob now: delete it, move it to a colder class, or nothing (null, null).</summary>
    public static (bool Delete, StorageClass? MoveTo) Decide(IReadOnlyList<LifecycleRule> rules, BlobProperties blob, DateTimeOffset now)
    {
        StorageClass? moveTo = null;
        foreach (var rule in rules)
        {
            if (!string.IsNullOrEmpty(rule.Prefix) && !blob.Name.StartsWith(rule.Prefix, StringComparison.Ordinal)) continue;
            var since = rule.Basis == LifecycleBasis.LastAccessed && blob.LastAccessedOn is { } accessed && accessed > blob.LastModified ? accessed : blob.LastModified;
            if (now - since < TimeSpan.FromDays(rule.DaysAfter)) continue;
            if (rule.Action == LifecycleAction.Delete) return (true, null);

            // Colder only, and never over a rehydration someone asked for.
            if (rule.StorageClass is { } target && target > blob.StorageClass && blob.RehydratingTo is null && (moveTo is null || target > moveTo)) moveTo = target;
        }

        return (false, moveTo);
    }

    private static bool Overlap(string? a, string? b) =>
        (a ?? "").StartsWith(b ?? "", StringComparison.Ordinal) || (b ?? "").StartsWith(a ?? "", StringComparison.Ordinal);

    private static bool IsValidUnicode(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return false;
        }

        return true;
    }
}
