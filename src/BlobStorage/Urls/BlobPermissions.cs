namespace BlobStorage.Urls;

/// <summary>What a signed URL allows; letters <c>r</c>, <c>w</c>, <c>d</c>, <c>l</c> in the URL, in that order.</summary>
[Flags]
#pragma warning disable CA1711 // "Permissions" is the name users look for (as in Azure's BlobSasPermissions).
public enum BlobPermissions
#pragma warning restore CA1711
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Read the blob (GET, HEAD).</summary>
    Read = 1,

    /// <summary>Create or overwrite the blob (PUT).</summary>
    Write = 2,

    /// <summary>Delete the blob.</summary>
    Delete = 4,

    /// <summary>List the container's blobs (a URL signed for the container, with no blob name).</summary>
    List = 8,
}
