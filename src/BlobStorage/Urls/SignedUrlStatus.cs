namespace BlobStorage.Urls;

/// <summary>Why a signed URL was accepted or refused.</summary>
public enum SignedUrlStatus
{
    /// <summary>The signature holds, the URL is within its validity and grants what was asked.</summary>
    Valid = 0,

    /// <summary>The URL carries no signature.</summary>
    Missing = 1,

    /// <summary>A signature field is missing, repeated or unreadable, or the signature version is unknown.</summary>
    Malformed = 2,

    /// <summary>The URL was signed with a key id the store does not have (never had, or removed after a rotation).</summary>
    UnknownKey = 3,

    /// <summary>The URL was signed for another container or blob than the one requested.</summary>
    TamperedPath = 4,

    /// <summary>The signature does not match the URL's fields: one was changed, or the signature was forged.</summary>
    BadSignature = 5,

    /// <summary>The URL's start time has not come yet.</summary>
    NotYetValid = 6,

    /// <summary>The URL's expiry has passed.</summary>
    Expired = 7,

    /// <summary>The URL is genuine but does not grant the operation asked for.</summary>
    MissingPermission = 8,
}
