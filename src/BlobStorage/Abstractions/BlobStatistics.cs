namespace BlobStorage.Abstractions;

/// <summary>The totals a dashboard shows; kept across restarts.</summary>
public sealed class BlobStatistics
{
    /// <summary>How many blobs the store holds.</summary>
    public long TotalBlobs { get; init; }

    /// <summary>The sum of the blobs' sizes.</summary>
    public long TotalBytes { get; init; }

    /// <summary>The bytes actually stored: distinct chunks once each (after deduplication), plus the content of small blobs kept inline.</summary>
    public long StoredBytes { get; init; }

    /// <summary>How many distinct chunks are referenced.</summary>
    public long ChunkCount { get; init; }

    /// <summary>Downloads served.</summary>
    public long ReadOperations { get; init; }

    /// <summary>Blob versions written: uploads, copies and completed multipart uploads.</summary>
    public long WriteOperations { get; init; }

    /// <summary>Blobs deleted.</summary>
    public long DeleteOperations { get; init; }

    /// <summary>Bytes returned by downloads.</summary>
    public long BytesRead { get; init; }

    /// <summary>Bytes of the blob versions written.</summary>
    public long BytesWritten { get; init; }

    /// <summary>Bytes read per download, 0 when none.</summary>
    public double AverageReadSize => ReadOperations == 0 ? 0 : (double)BytesRead / ReadOperations;

    /// <summary>Bytes written per write, 0 when none.</summary>
    public double AverageWriteSize => WriteOperations == 0 ? 0 : (double)BytesWritten / WriteOperations;

    /// <summary>Chunk copies that reads found missing or bad and rewrote from a good copy, since the store was opened.</summary>
    public long ReadRepairs { get; internal set; }

    /// <summary>Copies waiting in the replication queue: copies in other regions, and local copies an upload returned without (its blob is under-replicated until they are written).</summary>
    public long PendingReplicas { get; internal set; }

    /// <summary>The totals of each container, by name.</summary>
    public IReadOnlyList<ContainerStatistics> Containers { get; init; } = [];
}
