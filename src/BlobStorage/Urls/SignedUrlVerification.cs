namespace BlobStorage.Urls;

/// <summary>The outcome of checking a signed URL: <see cref="Status"/> and a reason a client can read.</summary>
public sealed class SignedUrlVerification
{
    internal SignedUrlVerification(SignedUrlStatus status, string reason, BlobPermissions permissions = BlobPermissions.None, DateTimeOffset? expiresOn = null)
    {
        Status = status;
        Reason = reason;
        Permissions = permissions;
        ExpiresOn = expiresOn;
    }

    /// <summary>True when the URL is accepted.</summary>
    public bool IsValid => Status == SignedUrlStatus.Valid;

    /// <summary>Why the URL was accepted or refused.</summary>
    public SignedUrlStatus Status { get; }

    /// <summary>A sentence for the client, without secrets.</summary>
    public string Reason { get; }

    /// <summary>What the URL grants, once its signature has been checked; <see cref="BlobPermissions.None"/> before.</summary>
    public BlobPermissions Permissions { get; }

    /// <summary>When the URL expires, once its signature has been checked.</summary>
    public DateTimeOffset? ExpiresOn { get; }
}
