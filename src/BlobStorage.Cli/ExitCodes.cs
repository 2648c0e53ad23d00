namespace BlobStorage.Cli;

/// <summary>The exit codes of <c>blobstorage</c>, stable for scripts (README: "The blobstorage tool").</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The store failed the operation (an I/O error, a full disk, a busy database, damaged data): the message says which.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: an unknown command or option, a missing argument, an invalid name or value.</summary>
    public const int Usage = 2;

    /// <summary>Something named does not exist: the store folder, a container, a blob, a local file or folder.</summary>
    public const int NotFound = 3;

    /// <summary><c>verify</c> found problems.</summary>
    public const int VerifyFailed = 4;

    /// <summary>Refused: the container exists or is not empty, a condition failed, a backup destination is not allowed, a file would be overwritten.</summary>
    public const int Refused = 5;
}
