namespace BlobStorage.Tests.Support;

/// <summary>Inline content as an array, for assertions on its bytes.</summary>
internal static class InlineBytes
{
    /// <summary>The bytes of <paramref name="content"/>, or null when there is none.</summary>
    public static byte[]? ToArrayOrNull(this ReadOnlyMemory<byte>? content) => content?.ToArray();
}
