namespace BlobStorage.Urls;

/// <summary>A secret that signs URLs, with the id that names it in every URL it signed.</summary>
public sealed class BlobSigningKey
{
    /// <summary>The shortest secret accepted: 32 bytes, the size of an HMAC-SHA256 output.</summary>
    public const int MinSecretLength = 32;

    /// <summary>Creates a key.</summary>
    /// <param name="id">1 to 64 letters, digits, '-', '_' or '.'; it appears in signed URLs.</param>
    /// <param name="secret">At least <see cref="MinSecretLength"/> random bytes; copied.</param>
    /// <exception cref="ArgumentException">The id or the secret breaks its rule.</exception>
    public BlobSigningKey(string id, ReadOnlySpan<byte> secret)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"A signing key id must be 1 to 64 letters, digits, '-', '_' or '.'; '{id}' is not.", nameof(id));
        }

        if (secret.Length < MinSecretLength)
        {
            throw new ArgumentException($"A signing key's secret must be at least {MinSecretLength} random bytes; key '{id}' has {secret.Length}.", nameof(secret));
        }

        Id = id;
        Secret = secret.ToArray();
    }

    /// <summary>The key's id.</summary>
    public string Id { get; }

    /// <summary>The secret bytes.</summary>
    internal byte[] Secret { get; }
}
