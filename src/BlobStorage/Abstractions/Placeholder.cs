namespace BlobStorage;

/// <summary>Placeholder.</summary>
public static class Placeholder
{
}
