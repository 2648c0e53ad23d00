// DI extensions live in this namespace by the convention of Microsoft.Extensions.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Returned by <see cref="BlobStorageServiceCollectionExtensions.AddBlobStorage"/> to configure the store further.</summary>
public interface IBlobStorageBuilder
{
    /// <summary>The service collection the store is registered in; register your own IMetadataStore, IChunkStore, IReplicator or IEdgeCache here to replace a default.</summary>
    IServiceCollection Services { get; }
}
