using System.Buffers.Text;
using System.Text;

namespace BlobStorage.Internal;

/// <summary>
/// A listing continuation token: the container and the key to resume at, base64url-encoded.
/// It is a key, not an offset, so it stays valid while blobs come and go. Its content is not
/// secret: a hand-made token only moves where the listing starts, within the same container.
/// </summary>
internal static class ContinuationToken
{
    private const byte Version = 1;

    public static string Encode(string container, ReadOnlySpan<byte> startAt)
    {
        var containerBytes = Encoding.UTF8.GetBytes(container);
        var raw = new byte[2 + containerBytes.Length + startAt.Length];
        raw[0] = Version;
        raw[1] = (byte)containerBytes.Length;
        containerBytes.CopyTo(raw, 2);
        startAt.CopyTo(raw.AsSpan(2 + containerBytes.Length));
        return Base64Url.EncodeToString(raw);
    }

    public static byte[] Decode(string token, string container)
    {
        byte[] raw;
        try
        {
            raw = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            throw Invalid("it is not base64url");
        }

        if (raw.Length < 2 || raw[0] != Version) throw Invalid("its version or length is wrong");
        var containerLength = raw[1];
        if (raw.Length < 2 + containerLength) throw Invalid("it is truncated");
        if (!raw.AsSpan(2, containerLength).SequenceEqual(Encoding.UTF8.GetBytes(container)))
        {
            throw Invalid($"it was issued for another container, not '{container}'");
        }

        var startAt = raw.AsSpan(2 + containerLength);
        if (startAt.Length > BlobNames.MaxBlobNameBytes + 1) throw Invalid("its key is longer than any blob name");
        return startAt.ToArray();
    }

    private static ArgumentException Invalid(string why) =>
        new($"The continuation token is not one this store issued: {why}.", "options.ContinuationToken");
}
