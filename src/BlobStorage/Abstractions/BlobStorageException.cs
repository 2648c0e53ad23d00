namespace BlobStorage.Abstractions;

/// <summary>The base of every error BlobStorage reports; <see cref="ErrorCode"/> says which.</summary>
public class BlobStorageException : Exception
{
    /// <summary>Creates an exception with an error code and a message that says what was expected and found.</summary>
    public BlobStorageException(BlobErrorCode errorCode, string message, Exception? innerException = null)
        : base(message, innerException) => ErrorCode = errorCode;

    /// <summary>The stable code of this failure.</summary>
    public BlobErrorCode ErrorCode { get; }
}

/// <summary>The named container does not exist.</summary>
public sealed class ContainerNotFoundException(string container)
    : BlobStorageException(BlobErrorCode.ContainerNotFound, $"Container '{container}' does not exist.")
{
    /// <summary>The container that was asked for.</summary>
    public string Container { get; } = container;
}

/// <summary>A container with the name already exists.</summary>
public sealed class ContainerAlreadyExistsException(string container)
    : BlobStorageException(BlobErrorCode.ContainerAlreadyExists, $"Container '{container}' already exists.")
{
    /// <summary>The container that exists already.</summary>
    public string Container { get; } = container;
}

/// <summary>The container still holds blobs and the caller did not ask to delete them.</summary>
public sealed class ContainerNotEmptyException(string container, long blobCount)
    : BlobStorageException(BlobErrorCode.ContainerNotEmpty, $"Container '{container}' still holds {blobCount} blob(s); delete them first or pass deleteContents: true.")
{
    /// <summary>The container that is not empty.</summary>
    public string Container { get; } = container;
}

/// <summary>The named blob does not exist.</summary>
public sealed class BlobNotFoundException(string container, string name)
    : BlobStorageException(BlobErrorCode.BlobNotFound, $"Blob '{name}' does not exist in container '{container}'.")
{
    /// <summary>The container that was searched.</summary>
    public string Container { get; } = container;

    /// <summary>The blob name that was asked for.</summary>
    public string Name { get; } = name;
}

/// <summary>A request condition did not hold; nothing was changed.</summary>
public sealed class PreconditionFailedException(string message)
    : BlobStorageException(BlobErrorCode.ConditionNotMet, message);

/// <summary>The byte range lies outside the blob.</summary>
public sealed class InvalidRangeException(string message)
    : BlobStorageException(BlobErrorCode.InvalidRange, message);

/// <summary>The multipart upload does not exist: never started, completed or aborted.</summary>
public sealed class UploadNotFoundException(string uploadId)
    : BlobStorageException(BlobErrorCode.UploadNotFound, $"Multipart upload '{uploadId}' does not exist; it was never started, or it was completed or aborted.")
{
    /// <summary>The upload id that was asked for.</summary>
    public string UploadId { get; } = uploadId;
}

/// <summary>A part of a multipart upload is missing, unknown, mismatched or too small.</summary>
public sealed class InvalidPartException(string message, int partNumber)
    : BlobStorageException(BlobErrorCode.InvalidPart, message)
{
    /// <summary>The part number at fault.</summary>
    public int PartNumber { get; } = partNumber;
}

/// <summary>Stored bytes failed their checksum or are missing and no good copy exists; no wrong byte was returned.</summary>
public sealed class DataCorruptionException(string message, Exception? innerException = null)
    : BlobStorageException(BlobErrorCode.DataCorruption, message, innerException);
