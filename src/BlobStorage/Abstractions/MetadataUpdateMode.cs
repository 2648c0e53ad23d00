namespace BlobStorage.Abstractions;

/// <summary>How <see cref="BlobMetadataUpdate"/> applies its dictionaries.</summary>
public enum MetadataUpdateMode
{
    /// <summary>Given keys are set; a null value removes its key; other keys stay.</summary>
    Merge = 0,

    /// <summary>The given dictionary replaces the existing one whole.</summary>
    Replace = 1,
}
