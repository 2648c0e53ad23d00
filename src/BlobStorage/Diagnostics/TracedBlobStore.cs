using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;
using BlobStorage.Urls;

namespace BlobStorage.Diagnostics;

/// <summary>
/// The store as users get it: every public operation in a span of its own (<see cref="BlobStorageTelemetry.ActivitySource"/>)
/// and in the <c>blobstorage.operation.duration</c> histogram, failures with error status and <c>error.type</c> set to the
/// error code. Without a listener a call goes straight to the store: no span, no clock, no allocation.
/// </summary>
internal sealed class TracedBlobStore(BlobStore inner) : IBlobStore, IDisposable
{
    private readonly BlobStorageTelemetry _telemetry = inner.Telemetry;

    /// <summary>The store behind the spans.</summary>
    internal BlobStore Inner => inner;

    /// <summary>Opens the store (see <see cref="BlobStore.OpenAsync"/>).</summary>
    internal Task OpenAsync(CancellationToken cancellationToken = default) => inner.OpenAsync(cancellationToken);

    public IEdgeCache EdgeCache => inner.EdgeCache;

    public IBlobUrlProvider Urls => inner.Urls;

    public Task<ContainerProperties> CreateContainerAsync(string name, ContainerOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("create_container", name, null, (name, options, cancellationToken), static (s, a) => s.CreateContainerAsync(a.name, a.options, a.cancellationToken));

    public Task<ContainerProperties?> CreateContainerIfNotExistsAsync(string name, ContainerOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("create_container_if_not_exists", name, null, (name, options, cancellationToken), static (s, a) => s.CreateContainerIfNotExistsAsync(a.name, a.options, a.cancellationToken));

    public Task<bool> ContainerExistsAsync(string name, CancellationToken cancellationToken = default) =>
        Traced("container_exists", name, null, (name, cancellationToken), static (s, a) => s.ContainerExistsAsync(a.name, a.cancellationToken));

    public Task<ContainerProperties> GetContainerAsync(string name, CancellationToken cancellationToken = default) =>
        Traced("get_container", name, null, (name, cancellationToken), static (s, a) => s.GetContainerAsync(a.name, a.cancellationToken));

    public IAsyncEnumerable<ContainerProperties> ListContainersAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        _telemetry.IsObserved ? TracedEnumeration("list_containers", null, inner.ListContainersAsync(prefix, cancellationToken), cancellationToken) : inner.ListContainersAsync(prefix, cancellationToken);

    public Task DeleteContainerAsync(string name, bool deleteContents = false, CancellationToken cancellationToken = default) =>
        Traced("delete_container", name, null, (name, deleteContents, cancellationToken), static async (s, a) =>
        {
            await s.DeleteContainerAsync(a.name, a.deleteContents, a.cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<bool> DeleteContainerIfExistsAsync(string name, bool deleteContents = false, CancellationToken cancellationToken = default) =>
        Traced("delete_container_if_exists", name, null, (name, deleteContents, cancellationToken), static (s, a) => s.DeleteContainerIfExistsAsync(a.name, a.deleteContents, a.cancellationToken));

    public Task<CdnConfiguration> GetCdnConfigurationAsync(string container, CancellationToken cancellationToken = default) =>
        Traced("get_cdn_configuration", container, null, (container, cancellationToken), static (s, a) => s.GetCdnConfigurationAsync(a.container, a.cancellationToken));

    public Task<CdnConfiguration> SetCdnConfigurationAsync(string container, CdnConfiguration configuration, CancellationToken cancellationToken = default) =>
        Traced("set_cdn_configuration", container, null, (container, configuration, cancellationToken), static (s, a) => s.SetCdnConfigurationAsync(a.container, a.configuration, a.cancellationToken));

    public Task<BlobDownload> DownloadFromEdgeAsync(string edgeLocation, string container, string name, BlobDownloadOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("download_from_edge", container, name, (edgeLocation, container, name, options, cancellationToken), static (s, a) => s.DownloadFromEdgeAsync(a.edgeLocation, a.container, a.name, a.options, a.cancellationToken));

    public Task<BlobProperties> UploadAsync(string container, string name, Stream content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("upload", container, name, (container, name, content, options, cancellationToken), static (s, a) => s.UploadAsync(a.container, a.name, a.content, a.options, a.cancellationToken));

    public Task<BlobProperties> UploadAsync(string container, string name, PipeReader content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("upload", container, name, (container, name, content, options, cancellationToken), static (s, a) => s.UploadAsync(a.container, a.name, a.content, a.options, a.cancellationToken));

    public Task<BlobDownload> DownloadAsync(string container, string name, BlobDownloadOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("download", container, name, (container, name, options, cancellationToken), static (s, a) => s.DownloadAsync(a.container, a.name, a.options, a.cancellationToken));

    public Task<BlobProperties> GetPropertiesAsync(string container, string name, CancellationToken cancellationToken = default) =>
        Traced("get_properties", container, name, (container, name, cancellationToken), static (s, a) => s.GetPropertiesAsync(a.container, a.name, a.cancellationToken));

    public Task<bool> ExistsAsync(string container, string name, CancellationToken cancellationToken = default) =>
        Traced("exists", container, name, (container, name, cancellationToken), static (s, a) => s.ExistsAsync(a.container, a.name, a.cancellationToken));

    public Task DeleteAsync(string container, string name, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default) =>
        Traced("delete", container, name, (container, name, conditions, cancellationToken), static async (s, a) =>
        {
            await s.DeleteAsync(a.container, a.name, a.conditions, a.cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<bool> DeleteIfExistsAsync(string container, string name, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default) =>
        Traced("delete_if_exists", container, name, (container, name, conditions, cancellationToken), static (s, a) => s.DeleteIfExistsAsync(a.container, a.name, a.conditions, a.cancellationToken));

    public Task<BlobListPage> ListAsync(string container, BlobListOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("list", container, null, (container, options, cancellationToken), static (s, a) => s.ListAsync(a.container, a.options, a.cancellationToken));

    public IAsyncEnumerable<BlobProperties> ListAllAsync(string container, string? prefix = null, CancellationToken cancellationToken = default) =>
        _telemetry.IsObserved ? TracedEnumeration("list_all", container, inner.ListAllAsync(container, prefix, cancellationToken), cancellationToken) : inner.ListAllAsync(container, prefix, cancellationToken);

    public Task<BlobProperties> UpdateMetadataAsync(string container, string name, BlobMetadataUpdate update, CancellationToken cancellationToken = default) =>
        Traced("update_metadata", container, name, (container, name, update, cancellationToken), static (s, a) => s.UpdateMetadataAsync(a.container, a.name, a.update, a.cancellationToken));

    public Task<BlobProperties> CopyAsync(string sourceContainer, string sourceName, string destinationContainer, string destinationName, BlobCopyOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("copy", destinationContainer, destinationName, (sourceContainer, sourceName, destinationContainer, destinationName, options, cancellationToken), static (s, a) => s.CopyAsync(a.sourceContainer, a.sourceName, a.destinationContainer, a.destinationName, a.options, a.cancellationToken));

    public Task<string> StartMultipartUploadAsync(string container, string name, MultipartUploadOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("start_multipart_upload", container, name, (container, name, options, cancellationToken), static (s, a) => s.StartMultipartUploadAsync(a.container, a.name, a.options, a.cancellationToken));

    public Task<UploadedPart> UploadPartAsync(string uploadId, int partNumber, Stream content, CancellationToken cancellationToken = default) =>
        UploadPartAsync(uploadId, partNumber, content, progress: null, cancellationToken);

    public Task<UploadedPart> UploadPartAsync(string uploadId, int partNumber, Stream content, IProgress<long>? progress, CancellationToken cancellationToken = default) =>
        Traced("upload_part", null, null, (uploadId, partNumber, content, progress, cancellationToken), static (s, a) => s.UploadPartAsync(a.uploadId, a.partNumber, a.content, a.progress, a.cancellationToken));

    public Task<BlobProperties> CompleteMultipartUploadAsync(string uploadId, IEnumerable<CompletedPart> parts, CancellationToken cancellationToken = default) =>
        Traced("complete_multipart_upload", null, null, (uploadId, parts, cancellationToken), static (s, a) => s.CompleteMultipartUploadAsync(a.uploadId, a.parts, a.cancellationToken));

    public Task AbortMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default) =>
        Traced("abort_multipart_upload", null, null, (uploadId, cancellationToken), static async (s, a) =>
        {
            await s.AbortMultipartUploadAsync(a.uploadId, a.cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<PartListPage> ListPartsAsync(string uploadId, PartListOptions? options = null, CancellationToken cancellationToken = default) =>
        Traced("list_parts", null, null, (uploadId, options, cancellationToken), static (s, a) => s.ListPartsAsync(a.uploadId, a.options, a.cancellationToken));

    public Task<MultipartUpload> GetMultipartUploadAsync(string uploadId, CancellationToken cancellationToken = default) =>
        Traced("get_multipart_upload", null, null, (uploadId, cancellationToken), static (s, a) => s.GetMultipartUploadAsync(a.uploadId, a.cancellationToken));

    public IAsyncEnumerable<MultipartUpload> ListMultipartUploadsAsync(string container, CancellationToken cancellationToken = default) =>
        _telemetry.IsObserved ? TracedEnumeration("list_multipart_uploads", container, inner.ListMultipartUploadsAsync(container, cancellationToken), cancellationToken) : inner.ListMultipartUploadsAsync(container, cancellationToken);

    public Task<BlobStatistics> GetStatisticsAsync(CancellationToken cancellationToken = default) =>
        Traced("get_statistics", null, null, cancellationToken, static (s, ct) => s.GetStatisticsAsync(ct));

    public Task<VerificationReport> VerifyAsync(bool verifyContent = false, CancellationToken cancellationToken = default) =>
        Traced("verify", null, null, (verifyContent, cancellationToken), static (s, a) => s.VerifyAsync(a.verifyContent, a.cancellationToken));

    public Task<MaintenanceReport> RunMaintenanceAsync(CancellationToken cancellationToken = default) =>
        Traced("run_maintenance", null, null, cancellationToken, static (s, ct) => s.RunMaintenanceAsync(ct));

    public Task<BackupReport> BackupAsync(string destination, CancellationToken cancellationToken = default) =>
        Traced("backup", null, null, (destination, cancellationToken), static (s, a) => s.BackupAsync(a.destination, a.cancellationToken));

    public Task<string?> FindContainerByCustomDomainAsync(string host, CancellationToken cancellationToken = default) =>
        Traced("find_container_by_custom_domain", null, null, (host, cancellationToken), static (s, a) => s.FindContainerByCustomDomainAsync(a.host, a.cancellationToken));

    public Task<BlobLocations> GetLocationsAsync(string container, string name, CancellationToken cancellationToken = default) =>
        Traced("get_locations", container, name, (container, name, cancellationToken), static (s, a) => s.GetLocationsAsync(a.container, a.name, a.cancellationToken));

    public Task<ScrubReport> ScrubAsync(CancellationToken cancellationToken = default) =>
        Traced("scrub", null, null, cancellationToken, static (s, ct) => s.ScrubAsync(ct));

    public Task<RebalanceReport> RebalanceAsync(CancellationToken cancellationToken = default) =>
        Traced("rebalance", null, null, cancellationToken, static (s, ct) => s.RebalanceAsync(ct));

    public Task<BlobProperties> SetStorageClassAsync(string container, string name, StorageClass storageClass, BlobRequestConditions? conditions = null, CancellationToken cancellationToken = default) =>
        Traced("set_storage_class", container, name, (container, name, storageClass, conditions, cancellationToken), static (s, a) => s.SetStorageClassAsync(a.container, a.name, a.storageClass, a.conditions, a.cancellationToken));

    public Task<BlobProperties> RehydrateAsync(string container, string name, StorageClass targetClass, CancellationToken cancellationToken = default) =>
        Traced("rehydrate", container, name, (container, name, targetClass, cancellationToken), static (s, a) => s.RehydrateAsync(a.container, a.name, a.targetClass, a.cancellationToken));

    public Task<ContainerProperties> SetContainerDefaultStorageClassAsync(string container, StorageClass storageClass, CancellationToken cancellationToken = default) =>
        Traced("set_container_default_storage_class", container, null, (container, storageClass, cancellationToken), static (s, a) => s.SetContainerDefaultStorageClassAsync(a.container, a.storageClass, a.cancellationToken));

    public Task<IReadOnlyList<LifecycleRule>> GetLifecycleRulesAsync(string container, CancellationToken cancellationToken = default) =>
        Traced("get_lifecycle_rules", container, null, (container, cancellationToken), static (s, a) => s.GetLifecycleRulesAsync(a.container, a.cancellationToken));

    public Task<IReadOnlyList<LifecycleRule>> SetLifecycleRulesAsync(string container, IEnumerable<LifecycleRule> rules, CancellationToken cancellationToken = default) =>
        Traced("set_lifecycle_rules", container, null, (container, rules, cancellationToken), static (s, a) => s.SetLifecycleRulesAsync(a.container, a.rules, a.cancellationToken));

    public Task DeleteLifecycleRulesAsync(string container, CancellationToken cancellationToken = default) =>
        Traced("delete_lifecycle_rules", container, null, (container, cancellationToken), static async (s, a) =>
        {
            await s.DeleteLifecycleRulesAsync(a.container, a.cancellationToken).ConfigureAwait(false);
            return true;
        });

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    public void Dispose() => inner.Dispose();

    private Task<T> Traced<TState, T>(string operation, string? container, string? blob, TState state, Func<IBlobStore, TState, Task<T>> call)
    {
        if (!_telemetry.IsObserved) return call(inner, state);
        var previous = Activity.Current;
        var activity = BlobStorageTelemetry.Begin(operation, container, blob);
        var startedAt = Stopwatch.GetTimestamp();
        Task<T> task;
        try
        {
            // Started under the span, so that the work it does (and any span of its own) belongs to it.
            task = call(inner, state);
        }
        catch (Exception ex)
        {
            task = Task.FromException<T>(ex);
        }
        finally
        {
            // The caller carries on under its own span; the work awaits under ours.
            Activity.Current = previous;
        }

        return CompleteAsync(operation, activity, startedAt, task);
    }

    private async Task<T> CompleteAsync<T>(string operation, Activity? activity, long startedAt, Task<T> task)
    {
        try
        {
            var result = await task.ConfigureAwait(false);
            _telemetry.End(operation, activity, startedAt, null);
            return result;
        }
        catch (Exception ex)
        {
            _telemetry.End(operation, activity, startedAt, ex);
            throw;
        }
    }

    private async IAsyncEnumerable<T> TracedEnumeration<T>(string operation, string? container, IAsyncEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var activity = BlobStorageTelemetry.Begin(operation, container, null);
        var startedAt = Stopwatch.GetTimestamp();
        Exception? failure = null;
        var enumerator = items.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                T item;
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false)) break;
                    item = enumerator.Current;
                }
                catch (Exception ex)
                {
                    failure = ex;
                    throw;
                }

                yield return item;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            _telemetry.End(operation, activity, startedAt, failure);
        }
    }
}
