namespace BlobStorage.HealthChecks;

/// <summary>When the store's health check reports it unhealthy; see <c>IBlobStorageBuilder.AddHealthCheck</c>.</summary>
public sealed class BlobStorageHealthCheckOptions
{
    /// <summary>
    /// The store is unhealthy when fewer bytes than this are free on the disk that holds it (whatever the disk reserve,
    /// <see cref="BlobStorageOptions.ReservedDiskSpace"/>, still holds). Default 1 GiB; 0 checks only the reserve.
    /// </summary>
    public long MinimumFreeSpace { get; set; } = 1024L * 1024 * 1024;
}
