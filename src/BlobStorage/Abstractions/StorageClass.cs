namespace BlobStorage.Abstractions;

/// <summary>How a blob is priced and placed: hotter classes favour latency, colder ones cost.</summary>
public enum StorageClass
{
    /// <summary>Frequently read data. The default.</summary>
    Standard = 0,

    /// <summary>Data read rarely but needed at once when it is.</summary>
    InfrequentAccess = 1,

    /// <summary>Data kept for a long time and read very rarely.</summary>
    Archive = 2,

    /// <summary>Data kept for compliance, practically never read.</summary>
    ColdArchive = 3,
}
