using System.Collections.Concurrent;
using BlobStorage.Abstractions;
using BlobStorage.Diagnostics;
using BlobStorage.Internal;
using BlobStorage.Urls;

namespace BlobStorage;

internal sealed partial class BlobStore
{
    // How many times an edge read starts again when the blob changes between reading its version and its bytes.
    private const int EdgeReadAttempts = 4;

    // Read on every edge read; kept here like the containers, replaced by every change made through this store.
    private readonly ConcurrentDictionary<string, CdnConfiguration> _cdn = new(StringComparer.Ordinal);
    private BlobUrlProvider? _urls;

    public IEdgeCache EdgeCache => _edgeCache;

    public IBlobUrlProvider Urls => _urls ??= new BlobUrlProvider(this, _options.Urls, _time);

    public async Task<CdnConfiguration> GetCdnConfigurationAsync(string container, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);

        // Read on every HTTP request for its Cache-Control: served from the same cache as edge reads.
        return await CdnAsync(container, cancellationToken).ConfigureAwait(false);
    }

    public async Task<CdnConfiguration> SetCdnConfigurationAsync(string container, CdnConfiguration configuration, CancellationToken cancellationToken = default)
    {
        BlobNames.ValidateContainerName(container, nameof(container));
        var validated = CdnRules.Validate(configuration, _knownEdges, nameof(configuration));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _metadata.SetCdnConfigurationAsync(container, validated, cancellationToken).ConfigureAwait(false);
        _cdn[container] = validated;

        // A shorter TTL or a smaller cacheable size applies to what the edges hold already.
        await InvalidateEdgesAsync(container, null).ConfigureAwait(false);
        return validated;
    }

    public async Task<string?> FindContainerByCustomDomainAsync(string host, CancellationToken cancellationToken = default)
    {
        var domain = CdnRules.NormalizeHost(host, nameof(host));
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        return await _metadata.FindContainerByCustomDomainAsync(domain, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BlobDownload> DownloadFromEdgeAsync(string edgeLocation, string container, string name, BlobDownloadOptions? options = null, CancellationToken cancellationToken = default)
    {
        CdnRules.ValidateEdgeName(edgeLocation, nameof(edgeLocation));
        BlobNames.ValidateContainerName(container, nameof(container));
        BlobNames.ValidateBlobName(name, nameof(name));
        options ??= DefaultDownload;
        if (_knownEdges.Count > 0 && !_knownEdges.Contains(edgeLocation)) throw CdnRules.UnknownEdge(edgeLocation, _knownEdges);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var cdn = await CdnAsync(container, cancellationToken).ConfigureAwait(false);
        if (!cdn.Enabled || !cdn.EdgeLocations.Contains(edgeLocation, StringComparer.Ordinal))
        {
            throw new BlobStorageException(
                BlobErrorCode.CdnNotEnabled,
                cdn.Enabled
                    ? $"Container '{container}' is not served from edge location '{edgeLocation}'; its edges are {string.Join(", ", cdn.EdgeLocations)}."
                    : $"Container '{container}' does not have its CDN enabled; set it with SetCdnConfigurationAsync.");
        }
        for (var attempt = 1; ; attempt++)
        {
            var generation = _access.Generation;
            // The version is all an edge needs from the row: a small blob's content, read along with it, goes straight back to the pool.
            var (record, rented, _) = await ReadForDownloadAsync(container, name, cancellationToken).ConfigureAwait(false)
                ?? throw await NotFoundAsync(container, name, cancellationToken).ConfigureAwait(false);
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            var properties = record.Properties;
            options.Conditions?.Check(container, name, properties.ETag, properties.LastModified);
            ThrowIfArchived(properties);
            var (offset, length) = options.Range is { } range ? range.Resolve(properties.Size, container, name) : (0L, properties.Size);
            Stream content;
            try
            {
                content = await _edgeCache.ReadAsync(
                    edgeLocation,
                    properties,
                    cdn,
                    offset,
                    length,
                    (from, count, token) => OpenVersionAsync(properties, from, count, token),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (VersionChangedException) when (attempt < EdgeReadAttempts)
            {
                // Overwritten between reading its version and reading its bytes: serve the new version instead.
                continue;
            }

            try
            {
                var merged = await DownloadedPropertiesAsync(properties, generation, cancellationToken).ConfigureAwait(false);
                return WithProgress(new BlobDownload(CountThisRead(merged, length), content, offset, length), options);
            }
            catch
            {
                await content.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Bytes of exactly this version, for an edge: a newer version is never read in its place.</summary>
    private async ValueTask<Stream> OpenVersionAsync(BlobProperties version, long offset, long length, CancellationToken cancellationToken)
    {
        var options = new BlobDownloadOptions
        {
            Range = offset == 0 && length == version.Size ? null : new BlobRange(offset, length),
            Conditions = new BlobRequestConditions { IfMatch = version.ETag },
        };
        try
        {
            var download = await DownloadCoreAsync(version.Container, version.Name, options, countRead: false, cancellationToken).ConfigureAwait(false);
            if (download.Properties.VersionId != version.VersionId)
            {
                await download.DisposeAsync().ConfigureAwait(false);
                throw new VersionChangedException(version);
            }

            return download.Content;
        }
        catch (Exception ex) when (ex is PreconditionFailedException or BlobNotFoundException)
        {
            throw new VersionChangedException(version, ex);
        }
    }

    private async ValueTask<CdnConfiguration> CdnAsync(string container, CancellationToken cancellationToken)
    {
        if (_cdn.TryGetValue(container, out var cached)) return cached;
        var cdn = await _metadata.GetCdnConfigurationAsync(container, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainerNotFoundException(container);
        return _cdn.GetOrAdd(container, cdn);
    }

    /// <summary>
    /// Drops what the edges hold of a changed blob (or container). After the change has committed, so it
    /// never fails the call: an edge that keeps a copy still never serves it, as every edge read checks the version.
    /// </summary>
    private async ValueTask InvalidateEdgesAsync(string container, string? name)
    {
        try
        {
            await _edgeCache.InvalidateAsync(container, name, null, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A replaced cache may fail in any way; the change it follows has committed and must be reported as done.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.EdgeInvalidationFailed(_logger, ex, container, name);
        }
    }

    /// <summary>The blob changed between an edge reading its version and its bytes; the edge read starts again.</summary>
    private sealed class VersionChangedException(BlobProperties version, Exception? innerException = null)
        : BlobStorageException(BlobErrorCode.ConditionNotMet, $"Blob '{version.Name}' in container '{version.Container}' changed while an edge read version {version.VersionId}; read it again.", innerException);
}
