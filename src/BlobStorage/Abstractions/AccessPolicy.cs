namespace BlobStorage.Abstractions;

/// <summary>Who may read a container's blobs through URLs.</summary>
public enum AccessPolicy
{
    /// <summary>Only signed requests. The default.</summary>
    Private = 0,

    /// <summary>Anyone may read blobs by their direct or CDN URL.</summary>
    Public = 1,
}
