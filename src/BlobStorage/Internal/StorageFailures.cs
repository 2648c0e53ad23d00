using BlobStorage.Abstractions;

namespace BlobStorage.Internal;

/// <summary>
/// Turns what the operating system throws (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>)
/// into a <see cref="BlobStorageException"/> whose code says what went wrong, with the original as its inner
/// exception: no raw I/O exception leaves the store.
/// </summary>
internal static class StorageFailures
{
    // ENOSPC and EDQUOT as .NET reports them on Linux (the HResult of an IOException is the raw errno there),
    // and ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL as HRESULTs on Windows.
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int ErrorDiskFull = unchecked((int)0x80070070);
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>True for the exceptions a file operation throws when the disk or the permissions fail it.</summary>
    public static bool IsIO(Exception ex) => ex is IOException or UnauthorizedAccessException;

    /// <summary>True when the exception says the disk or the user's quota is full.</summary>
    public static bool IsDiskFull(Exception ex) => ex is IOException io && io.HResult switch
    {
        ErrorDiskFull or ErrorHandleDiskFull => true,
        Enospc or Edquot => !OperatingSystem.IsWindows(),
        _ => false,
    };

    /// <summary>
    /// The typed error for a failed file operation. <paramref name="doing"/> says what the store was doing,
    /// as in "writing chunk 1a2b… to '/data/chunks'".
    /// </summary>
    public static BlobStorageException From(Exception ex, string doing)
    {
        if (ex is BlobStorageException typed) return typed;
        if (IsDiskFull(ex))
        {
            return new BlobStorageException(BlobErrorCode.InsufficientStorage, $"The disk is full: {doing} failed ({ex.Message}). Nothing was changed; delete blobs and run maintenance, or free space on the disk.", ex);
        }

        if (ex is UnauthorizedAccessException)
        {
            return new BlobStorageException(BlobErrorCode.AccessDenied, $"Access was denied while {doing}: {ex.Message} Check the permissions of the store's folder, and that nothing but the store's own files is in it.", ex);
        }

        return new BlobStorageException(BlobErrorCode.IOError, $"The disk reported an error while {doing}: {ex.Message}", ex);
    }
}
