namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// The file operations the chunk store makes, one method each, so that a test can put a layer under
/// the store that fails the Nth operation or forgets what was not flushed when the power is cut.
/// The store never builds a path from input: every path it passes lies under its own folder.
/// </summary>
internal abstract class ChunkFileSystem
{
    public abstract void CreateDirectory(string path);

    public abstract bool DirectoryExists(string path);

    public abstract bool FileExists(string path);

    /// <summary>Creates a new file (failing if it exists) to write into.</summary>
    public abstract WritableFile CreateNew(string path, long preallocate);

    /// <summary>Opens a file for reading; throws <see cref="FileNotFoundException"/> when there is none.</summary>
    public abstract ReadableFile OpenRead(string path);

    /// <summary>Renames a file (atomic on POSIX); with <paramref name="overwrite"/> over any file of the destination name. Throws <see cref="FileNotFoundException"/> when the source is absent.</summary>
    public abstract void Move(string source, string destination, bool overwrite = true);

    /// <summary>Makes every create, rename and delete in the directory durable.</summary>
    public abstract void FlushDirectory(string path);

    public abstract void DeleteFile(string path);

    public abstract IEnumerable<string> EnumerateFiles(string directory);

    /// <summary>When the file was last written, in UTC; null when there is no such file.</summary>
    public abstract DateTimeOffset? GetLastWriteTime(string path);

    internal abstract class WritableFile : IDisposable
    {
        public abstract void Write(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset);

        /// <summary>Makes the file's bytes durable; a failure is final, never retried into a success.</summary>
        public abstract void Flush();

        public abstract void Dispose();
    }

    internal abstract class ReadableFile : IDisposable
    {
        public abstract long Length { get; }

        public abstract int Read(Span<byte> destination, long offset);

        /// <summary>
        /// Whether the open file still has a name (it was neither deleted nor renamed over). False when that cannot be
        /// told: a file is then never kept open for later reads.
        /// </summary>
        public virtual bool IsLinked() => false;

        public abstract void Dispose();
    }
}
