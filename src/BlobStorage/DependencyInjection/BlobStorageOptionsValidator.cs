using Microsoft.Extensions.Options;

namespace BlobStorage.DependencyInjection;

/// <summary>Validates <see cref="BlobStorageOptions"/> when the host starts, naming the bad setting.</summary>
internal sealed class BlobStorageOptionsValidator : IValidateOptions<BlobStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, BlobStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = options.Validate();
        return problem is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problem);
    }
}
