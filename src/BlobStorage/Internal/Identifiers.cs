using System.Globalization;
using System.Security.Cryptography;

namespace BlobStorage.Internal;

/// <summary>Makes version ids and ETags.</summary>
internal static class Identifiers
{
    /// <summary>A version id that sorts by creation time: 32 hexadecimal characters of a version 7 UUID.</summary>
    public static string NewVersionId(DateTimeOffset now) => Guid.CreateVersion7(now).ToString("N", CultureInfo.InvariantCulture);

    /// <summary>A strong ETag, quoted as in HTTP: 64 random bits, so a change can never reuse a previous tag.</summary>
    public static string NewETag()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return "\"0x" + Convert.ToHexString(bytes) + "\"";
    }
}
