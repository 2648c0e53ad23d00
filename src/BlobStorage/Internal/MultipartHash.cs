using System.Globalization;
using System.Security.Cryptography;

namespace BlobStorage.Internal;

/// <summary>
/// The content hash of a multipart blob, as S3 forms it: the SHA-256 of the parts' binary SHA-256s
/// concatenated in order, then a hyphen and the part count. Completing an upload thus needs no byte
/// of its content, and the same parts always give the same value.
/// </summary>
internal static class MultipartHash
{
    public static string Composite(IReadOnlyList<string> partHashes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> binary = stackalloc byte[32];
        foreach (var part in partHashes)
        {
            Convert.FromHexString(part, binary, out _, out _);
            hash.AppendData(binary);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset()) + "-" + partHashes.Count.ToString(CultureInfo.InvariantCulture);
    }

    public static string PartETag(string contentHash) => "\"" + contentHash + "\"";
}
