// DI extensions live in this namespace by the convention of Microsoft.Extensions.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>
/// Returned by <c>AddBlobStorage</c> and <c>AddKeyedBlobStorage</c> to configure that store further: its options, its edge
/// cache, a health check (see <see cref="BlobStorageBuilderExtensions"/>), or any service behind it through <see cref="Services"/>.
/// </summary>
public interface IBlobStorageBuilder
{
    /// <summary>The service collection the store is registered in; register your own IMetadataStore, IChunkStore, IReplicator or IEdgeCache here to replace a default (keyed with <see cref="ServiceKey"/> for a keyed store).</summary>
    IServiceCollection Services { get; }

    /// <summary>The key the store is registered under; null for the store registered without one.</summary>
    object? ServiceKey { get; }

    /// <summary>The name of the store's <see cref="BlobStorage.BlobStorageOptions"/> (the default name, or the key's text).</summary>
    string OptionsName { get; }
}
