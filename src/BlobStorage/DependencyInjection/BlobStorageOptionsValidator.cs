using Microsoft.Extensions.Options;

namespace BlobStorage.DependencyInjection;

/// <summary>
/// Validates <see cref="BlobStorageOptions"/> when the host starts: every problem at once (binding and range), each naming the
/// setting, and for a keyed store the key too.
/// </summary>
internal sealed class BlobStorageOptionsValidator : IValidateOptions<BlobStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, BlobStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems().ToList();
        if (problems.Count == 0) return ValidateOptionsResult.Success;
        return ValidateOptionsResult.Fail(string.IsNullOrEmpty(name) ? problems : problems.Select(p => $"Blob store '{name}': {p}"));
    }
}
