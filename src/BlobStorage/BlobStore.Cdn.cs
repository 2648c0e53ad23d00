using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    public async Task<CdnConfiguration> GetCdnConfigurationAsync(string container, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return await _metadata.GetCdnConfigurationAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainerNotFoundException(container);
    }

    public async Task<CdnConfiguration> SetCdnConfigurationAsync(string container, CdnConfiguration configuration, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        var validated = CdnRules.Validate(configuration, _knownEdges, nameof(configuration));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _metadata.SetCdnConfigurationAsync(container, validated, cancellationToken).ConfigureAwait(false);
        return validated;
    }
}
