using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The blobs table's <c>storage_class</c> column: the class in its low four bits and, while a rehydration is
/// pending, the target class plus one in the bits above (so a value of 16 or more means "rehydrating").
/// </summary>
internal static class StorageClassColumn
{
    /// <summary>The largest value the column holds: any class, rehydrating to any class.</summary>
    public const long MaxValue = 15 + (16 * 16);

    /// <summary>Values at or above this carry a pending rehydration.</summary>
    public const long RehydratingFrom = 16;

    public static long Encode(StorageClass storageClass, StorageClass? rehydratingTo) =>
        (int)storageClass + (rehydratingTo is { } target ? 16L * ((int)target + 1) : 0);

    public static StorageClass ClassOf(long value) => (StorageClass)(value & 15);

    public static StorageClass? RehydratingToOf(long value) => value >= RehydratingFrom ? (StorageClass)((value >> 4) - 1) : null;
}
