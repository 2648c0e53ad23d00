using BlobStorage.Chunks.FileSystem;

namespace BlobStorage.Tests.Faults;

/// <summary>The file operations <see cref="FaultyFileSystem"/> counts, fails and orders power cuts by.</summary>
public enum FileOp
{
    CreateDirectory,
    Create,
    Open,
    Read,
    Write,
    Flush,
    Rename,
    FlushDirectory,
    Delete,
    Enumerate,

    /// <summary>File.Exists and Directory.Exists: counted, never failed (.NET reports an error there as "no").</summary>
    Exists,
}

/// <summary>How an injected fault shows itself.</summary>
public enum FaultFlavor
{
    /// <summary>An <see cref="IOException"/> as EIO gives it.</summary>
    IOError,

    /// <summary>An <see cref="IOException"/> as ENOSPC gives it: HRESULT 0x80070070, "No space left on device".</summary>
    DiskFull,

    /// <summary>An <see cref="UnauthorizedAccessException"/> as EACCES gives it: a file or folder whose permissions shut the process out.</summary>
    AccessDenied,
}

/// <summary>The exception every operation throws once the power has been cut: the machine is off.</summary>
public sealed class PowerCutException(string message) : IOException(message);

/// <summary>An injected failure; tests tell it from a real one by type.</summary>
public sealed class InjectedIOException(string message, int hresult) : IOException(message, hresult);

/// <summary>
/// A <see cref="ChunkFileSystem"/> over the real disk that simulates one with a volatile cache, the
/// way RocksDB's FaultInjectionTestFS does. Every operation happens on the real folder (which is
/// what the running process sees: the page cache) and is also recorded in a model of what the
/// platter holds: per file, the bytes made durable by <see cref="ChunkFileSystem.WritableFile.Flush"/>;
/// per directory, the entries (creates, renames, deletes, sub-directories) made durable by
/// <see cref="ChunkFileSystem.FlushDirectory"/>. <see cref="PowerCut"/> rewrites the real folder to
/// what a power loss would leave. Faults: fail the Nth operation (of a kind or of any kind), once or
/// from then on, or cut the power from inside the Nth operation.
/// </summary>
/// <remarks>
/// <para>Real fsyncs are skipped by default: durability is what the model says, and skipping them keeps
/// hundreds of seeds fast. Set <see cref="PassThroughFlush"/> to make them anyway.</para>
/// <para>After a failed flush, Linux may drop the dirty pages and report the next fsync as a success.
/// The model does that too: the bytes unflushed at a failed flush are durable as zeros from then on,
/// so a store that retries a flush into a success loses data at the next power cut.</para>
/// <para>Every operation runs under one lock, so a power cut never races an operation in flight.</para>
/// </remarks>
internal sealed class FaultyFileSystem : ChunkFileSystem
{
    private readonly ChunkFileSystem _inner;
    private readonly string _root;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DirectoryModel> _directories = new(StringComparer.Ordinal);
    private readonly Dictionary<FileOp, long> _counts = [];
    private readonly List<string> _log = [];
    private Fault? _fault;
    private long _failable;
    private long _all;
    private int _openHandles;
    private long _faultsInjected;
    private bool _poweredOff;

    /// <summary>Wraps <paramref name="inner"/> (the real disk by default) for the folder <paramref name="root"/>; what it holds now counts as durable.</summary>
    public FaultyFileSystem(string root, ChunkFileSystem? inner = null)
    {
        _inner = inner ?? PhysicalChunkFileSystem.Instance;
        _root = Path.GetFullPath(root);
        if (Directory.Exists(_root)) Adopt(_root);
        else _directories[_root] = new DirectoryModel { Durable = true };
    }

    /// <summary>The mutation that proves the power-loss suite has teeth: directory flushes do nothing.</summary>
    public bool IgnoreDirectoryFlush { get; set; }

    /// <summary>The other mutation: file flushes do nothing.</summary>
    public bool IgnoreFileFlush { get; set; }

    /// <summary>Also fsync for real (slow); the model does not need it.</summary>
    public bool PassThroughFlush { get; set; }

    /// <summary>Called before each operation, under the lock (for counting layers and traces).</summary>
    public Action<FileOp, string>? BeforeOperation { get; set; }

    /// <summary>
    /// Called before each operation takes the lock, so a test may hold one operation back (to open a
    /// race window) while others run.
    /// </summary>
    public Action<FileOp, string>? BeforeOperationUnlocked { get; set; }

    /// <summary>Keep a trace of the operations (for a failure message).</summary>
    public bool Trace { get; set; }

    public int OpenHandles => Volatile.Read(ref _openHandles);

    public long FaultsInjected => Interlocked.Read(ref _faultsInjected);

    public bool IsPoweredOff
    {
        get
        {
            lock (_gate) return _poweredOff;
        }
    }

    /// <summary>Operations that can fail, since the layer was made or <see cref="ResetCounts"/>.</summary>
    public long FailableOperations
    {
        get
        {
            lock (_gate) return _failable;
        }
    }

    /// <summary>Every operation including existence checks.</summary>
    public long AllOperations
    {
        get
        {
            lock (_gate) return _all;
        }
    }

    public IReadOnlyDictionary<FileOp, long> Counts
    {
        get
        {
            lock (_gate) return new Dictionary<FileOp, long>(_counts);
        }
    }

    public IReadOnlyList<string> TraceLines
    {
        get
        {
            lock (_gate) return [.. _log];
        }
    }

    public void ResetCounts()
    {
        lock (_gate)
        {
            _counts.Clear();
            _failable = 0;
            _all = 0;
            _log.Clear();
        }
    }

    /// <summary>
    /// Fails the <paramref name="n"/>th (1-based, counted from now) operation of <paramref name="kind"/>
    /// (any failable kind when null), and every later one of that kind when <paramref name="persistent"/>.
    /// </summary>
    public void FailAt(long n, FileOp? kind = null, bool persistent = false, FaultFlavor flavor = FaultFlavor.IOError)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (kind == FileOp.Exists) throw new ArgumentException("Existence checks never fail in .NET: File.Exists reports an error as false.", nameof(kind));
        lock (_gate) _fault = new Fault { Kind = kind, N = n, Persistent = persistent, Flavor = flavor };
    }

    /// <summary>
    /// Cuts the power from inside the <paramref name="n"/>th operation (counted from now, of
    /// <paramref name="kind"/> or of any kind, existence checks included): the disk is rewritten to
    /// its durable state before that operation runs, and it and every later one throw <see cref="PowerCutException"/>.
    /// </summary>
    public void CutPowerAt(long n, Random rng, FileOp? kind = null, PowerCutOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentNullException.ThrowIfNull(rng);
        lock (_gate) _fault = new Fault { Kind = kind, N = n, CutPower = (rng, options ?? new PowerCutOptions()), CountExists = true };
    }

    /// <summary>Lifts any armed fault; a layer whose power was cut stays off until <see cref="PowerOn"/>.</summary>
    public void ClearFaults()
    {
        lock (_gate) _fault = null;
    }

    /// <summary>True while a fault or a power cut is armed and has not fired (or is persistent).</summary>
    public bool FaultArmed
    {
        get
        {
            lock (_gate) return _fault is not null;
        }
    }

    /// <summary>Turns the machine back on after a power cut: operations run again on what survived.</summary>
    public void PowerOn()
    {
        lock (_gate) _poweredOff = false;
    }

    /// <summary>Declares everything on disk now durable (as a sync of the whole file system would).</summary>
    public void MarkDurable()
    {
        lock (_gate)
        {
            foreach (var directory in _directories.Values)
            {
                directory.Durable = true;
                directory.DurableEntries.Clear();
                foreach (var (name, node) in directory.Entries)
                {
                    node.SnapshotDurable();
                    directory.DurableEntries[name] = node;
                }
            }
        }
    }

    /// <summary>
    /// Rewrites the real folder to what a power loss would leave, and turns the machine off: every
    /// later operation throws until <see cref="PowerOn"/>. Deterministic for a given <paramref name="rng"/> state.
    /// </summary>
    /// <returns>What the cut undid.</returns>
    public PowerCutReport PowerCut(Random rng, PowerCutOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rng);
        lock (_gate) return PowerCutLocked(rng, options ?? new PowerCutOptions());
    }

    // ---- ChunkFileSystem ----

    public override void CreateDirectory(string path)
    {
        var full = Path.GetFullPath(path);
        BeforeOperationUnlocked?.Invoke(FileOp.CreateDirectory, full);
        lock (_gate)
        {
            Enter(FileOp.CreateDirectory, full);
            if (Directory.Exists(full))
            {
                if (IsTracked(full) && !_directories.ContainsKey(full)) Adopt(full);
                return;
            }

            _inner.CreateDirectory(full);
            if (!IsTracked(full)) return;

            // Directory.CreateDirectory makes every missing ancestor; record each, none durable yet.
            for (var d = full; d is not null && IsTracked(d) && !_directories.ContainsKey(d); d = Path.GetDirectoryName(d))
            {
                _directories[d] = new DirectoryModel { Durable = false };
            }
        }
    }

    public override bool DirectoryExists(string path)
    {
        var full = Path.GetFullPath(path);
        lock (_gate)
        {
            Enter(FileOp.Exists, full);
            return _inner.DirectoryExists(full);
        }
    }

    public override bool FileExists(string path)
    {
        var full = Path.GetFullPath(path);
        lock (_gate)
        {
            Enter(FileOp.Exists, full);
            return _inner.FileExists(full);
        }
    }

    public override DateTimeOffset? GetLastWriteTime(string path)
    {
        var full = Path.GetFullPath(path);
        lock (_gate)
        {
            Enter(FileOp.Exists, full);
            return _inner.GetLastWriteTime(full);
        }
    }

    public override WritableFile CreateNew(string path, long preallocate)
    {
        var full = Path.GetFullPath(path);
        BeforeOperationUnlocked?.Invoke(FileOp.Create, full);
        lock (_gate)
        {
            Enter(FileOp.Create, full);
            var file = _inner.CreateNew(full, preallocate);
            var node = new FileNode();
            if (DirectoryOf(full) is { } directory) directory.Entries[Path.GetFileName(full)] = node;
            Interlocked.Increment(ref _openHandles);
            return new Writable(this, file, node, full);
        }
    }

    public override ReadableFile OpenRead(string path)
    {
        var full = Path.GetFullPath(path);
        BeforeOperationUnlocked?.Invoke(FileOp.Open, full);
        lock (_gate)
        {
            Enter(FileOp.Open, full);
            var file = _inner.OpenRead(full);
            Interlocked.Increment(ref _openHandles);
            return new Readable(this, file, full);
        }
    }

    public override void Move(string source, string destination, bool overwrite = true)
    {
        var from = Path.GetFullPath(source);
        var to = Path.GetFullPath(destination);
        BeforeOperationUnlocked?.Invoke(FileOp.Rename, from + " -> " + to);
        lock (_gate)
        {
            Enter(FileOp.Rename, from + " -> " + to);
            var node = NodeAt(from);
            _inner.Move(from, to, overwrite);
            if (DirectoryOf(from) is { } fromDirectory) fromDirectory.Entries.Remove(Path.GetFileName(from));
            if (DirectoryOf(to) is { } toDirectory && node is not null) toDirectory.Entries[Path.GetFileName(to)] = node;
        }
    }

    public override void FlushDirectory(string path)
    {
        var full = Path.GetFullPath(path);
        BeforeOperationUnlocked?.Invoke(FileOp.FlushDirectory, full);
        lock (_gate)
        {
            Enter(FileOp.FlushDirectory, full);
            if (PassThroughFlush) _inner.FlushDirectory(full);
            if (IgnoreDirectoryFlush) return;
            if (_directories.TryGetValue(full, out var directory))
            {
                directory.DurableEntries.Clear();
                foreach (var (name, node) in directory.Entries) directory.DurableEntries[name] = node;
            }

            // A directory's own entry lives in its parent: flushing the parent makes child directories durable.
            foreach (var (childPath, child) in _directories)
            {
                if (!child.Durable && string.Equals(Path.GetDirectoryName(childPath), full, StringComparison.Ordinal)) child.Durable = true;
            }
        }
    }

    public override void DeleteFile(string path)
    {
        var full = Path.GetFullPath(path);
        BeforeOperationUnlocked?.Invoke(FileOp.Delete, full);
        lock (_gate)
        {
            Enter(FileOp.Delete, full);
            _inner.DeleteFile(full);
            if (DirectoryOf(full) is { } directory) directory.Entries.Remove(Path.GetFileName(full));
        }
    }

    public override IEnumerable<string> EnumerateFiles(string directory)
    {
        var full = Path.GetFullPath(directory);
        BeforeOperationUnlocked?.Invoke(FileOp.Enumerate, full);
        lock (_gate)
        {
            Enter(FileOp.Enumerate, full);
            return [.. _inner.EnumerateFiles(full)];
        }
    }

    // ---- the model ----

    private bool IsTracked(string fullPath) =>
        fullPath.Length >= _root.Length
        && fullPath.StartsWith(_root, StringComparison.Ordinal)
        && (fullPath.Length == _root.Length || fullPath[_root.Length] == Path.DirectorySeparatorChar);

    private DirectoryModel? DirectoryOf(string fullFilePath)
    {
        var parent = Path.GetDirectoryName(fullFilePath);
        if (parent is null || !IsTracked(parent)) return null;
        if (!_directories.TryGetValue(parent, out var directory))
        {
            // A folder made behind the layer's back (a test's own hands): what it holds is durable.
            if (!Directory.Exists(parent)) return null;
            Adopt(parent);
            directory = _directories[parent];
        }

        return directory;
    }

    private FileNode? NodeAt(string fullFilePath)
    {
        if (DirectoryOf(fullFilePath) is not { } directory) return null;
        var name = Path.GetFileName(fullFilePath);
        if (directory.Entries.TryGetValue(name, out var node)) return node;
        if (!File.Exists(fullFilePath)) return null;

        // A file written behind the layer's back (a test corrupting one): durable as it is.
        node = FileNode.FromDisk(fullFilePath);
        if (node is null) return null;
        directory.Entries[name] = node;
        directory.DurableEntries[name] = node;
        return node;
    }

    private void Adopt(string directoryPath)
    {
        var directory = new DirectoryModel { Durable = true };
        _directories[directoryPath] = directory;
        foreach (var file in Directory.EnumerateFiles(directoryPath))
        {
            if (FileNode.FromDisk(file) is not { } node) continue;
            var name = Path.GetFileName(file);
            directory.Entries[name] = node;
            directory.DurableEntries[name] = node;
        }

        foreach (var sub in Directory.EnumerateDirectories(directoryPath)) Adopt(sub);
    }

    /// <summary>Counts the operation, then fails it, cuts the power in it, or lets it run.</summary>
    private void Enter(FileOp op, string path)
    {
        if (_poweredOff) throw new PowerCutException($"The power is off: {op} '{path}' cannot run.");
        _all++;
        var failable = op != FileOp.Exists;
        if (failable) _failable++;
        _counts[op] = _counts.GetValueOrDefault(op) + 1;
        if (Trace) _log.Add($"{_all,5} {op} {path}");
        BeforeOperation?.Invoke(op, path);
        if (_fault is not { } fault) return;
        var counted = fault.Kind is { } kind ? kind == op : failable || fault.CountExists;
        if (!counted) return;

        fault.Seen++;
        if (fault.Seen < fault.N) return;
        if (fault.CutPower is var (rng, options))
        {
            _fault = null;
            var report = PowerCutLocked(rng, options);
            if (Trace) _log.Add($"      power cut in {op}: {report}");
            throw new PowerCutException($"Simulated power cut during {op} '{path}' (operation {fault.Seen} counted): {report}");
        }

        if (!fault.Persistent) _fault = null;
        _faultsInjected++;
        throw fault.Flavor switch
        {
            FaultFlavor.DiskFull => new InjectedIOException($"No space left on device : '{path}' (injected on {op})", unchecked((int)0x80070070)),
            FaultFlavor.AccessDenied => new UnauthorizedAccessException($"Access to the path '{path}' is denied (injected on {op})."),
            _ => (Exception)new InjectedIOException($"Input/output error : '{path}' (injected on {op}, fault {_faultsInjected})", 5),
        };
    }

    private PowerCutReport PowerCutLocked(Random rng, PowerCutOptions options)
    {
        var report = new PowerCutReport();

        // Directories whose own entry never became durable vanish with all they hold (deepest first).
        foreach (var path in _directories.Where(d => !d.Value.Durable).Select(d => d.Key).OrderByDescending(p => p.Length).ToList())
        {
            if (options.KeepUnsyncedEntries && rng.Next(2) == 0)
            {
                _directories[path].Durable = true;
                continue;
            }

            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            foreach (var gone in _directories.Keys.Where(k => k == path || k.StartsWith(path + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToList())
            {
                _directories.Remove(gone);
            }

            report.DirectoriesLost++;
        }

        foreach (var (path, directory) in _directories.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var names = directory.Entries.Keys.Union(directory.DurableEntries.Keys).Order(StringComparer.Ordinal).ToList();
            var survivors = new Dictionary<string, FileNode>(StringComparer.Ordinal);
            foreach (var name in names)
            {
                directory.Entries.TryGetValue(name, out var now);
                directory.DurableEntries.TryGetValue(name, out var durable);
                var survivor = durable;
                if (!ReferenceEquals(now, durable))
                {
                    // An entry change no directory flush covered: undone, unless the adversary lets it through.
                    if (options.KeepUnsyncedEntries && rng.Next(2) == 0) survivor = now;
                    if (survivor is null) report.EntriesLost++;
                    else if (durable is null) report.UnsyncedEntriesKept++;
                    else report.EntriesRestored++;
                }

                var file = Path.Combine(path, name);
                if (survivor is null)
                {
                    if (File.Exists(file)) File.Delete(file);
                    continue;
                }

                var bytes = survivor.Durable;
                if (!survivor.Content.SequenceEqual(bytes))
                {
                    report.FilesTruncated++;
                    if (survivor.Content.Length > bytes.Length && options.TornWriteProbability > 0 && rng.NextDouble() < options.TornWriteProbability)
                    {
                        // A torn write: part of what was never flushed reached the platter anyway.
                        var extra = survivor.Content[bytes.Length..];
                        var keep = rng.Next(extra.Length + 1);
                        bytes = [.. bytes, .. extra[..keep]];
                        report.TornWrites++;
                    }
                }

                if (!File.Exists(file) || !ReferenceEquals(survivor, now) || !survivor.Content.SequenceEqual(bytes))
                {
                    // Unlinked first: a handle still open on the old file (with its share lock) must not stand in the way.
                    if (File.Exists(file)) File.Delete(file);
                    File.WriteAllBytes(file, bytes);
                }

                survivor.ResetTo(bytes);
                survivors[name] = survivor;
            }

            directory.Entries.Clear();
            directory.DurableEntries.Clear();
            foreach (var (name, node) in survivors)
            {
                directory.Entries[name] = node;
                directory.DurableEntries[name] = node;
            }
        }

        _poweredOff = true;
        return report;
    }

    private sealed class Fault
    {
        public FileOp? Kind { get; init; }

        public long N { get; init; }

        public bool Persistent { get; init; }

        public FaultFlavor Flavor { get; init; }

        public (Random Rng, PowerCutOptions Options)? CutPower { get; init; }

        /// <summary>Existence checks count towards N (for power cuts, which may land anywhere).</summary>
        public bool CountExists { get; init; }

        public long Seen { get; set; }
    }

    private sealed class DirectoryModel
    {
        /// <summary>The directory's own entry in its parent is durable.</summary>
        public bool Durable { get; set; }

        /// <summary>What the running system sees.</summary>
        public Dictionary<string, FileNode> Entries { get; } = new(StringComparer.Ordinal);

        /// <summary>What the last directory flush recorded.</summary>
        public Dictionary<string, FileNode> DurableEntries { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A file (an inode): its bytes as the system sees them and as the platter holds them.</summary>
    private sealed class FileNode
    {
        private readonly List<(long Start, long End)> _lost = [];
        private byte[] _content = [];
        private long _length;

        public byte[] Durable { get; private set; } = [];

        public ReadOnlySpan<byte> Content => _content.AsSpan(0, (int)_length);

        /// <summary>A file already on disk, durable as it is; null when it cannot be read (a lock file held open).</summary>
        public static FileNode? FromDisk(string path)
        {
            try
            {
                var node = new FileNode();
                node.ResetTo(File.ReadAllBytes(path));
                return node;
            }
            catch (IOException)
            {
                return null;
            }
        }

        public void Write(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset)
        {
            foreach (var buffer in buffers)
            {
                var end = offset + buffer.Length;
                if (end > _content.Length) Array.Resize(ref _content, (int)Math.Max(end, _content.Length * 2L));
                buffer.Span.CopyTo(_content.AsSpan((int)offset));
                _length = Math.Max(_length, end);
                offset = end;
            }
        }

        /// <summary>A successful flush: everything written is durable, except what an earlier failed flush lost.</summary>
        public void SnapshotDurable()
        {
            var durable = Content.ToArray();
            foreach (var (start, end) in _lost)
            {
                var from = (int)Math.Min(start, durable.Length);
                var to = (int)Math.Min(end, durable.Length);
                durable.AsSpan(from, to - from).Clear();
            }

            Durable = durable;
        }

        /// <summary>A failed flush: the kernel marks the dirty pages clean, so a later flush will not write them.</summary>
        public void LoseUnflushed()
        {
            var durableLength = Durable.Length;
            if (_length > durableLength) _lost.Add((durableLength, _length));
            else _lost.Add((0, _length));
        }

        public void ResetTo(byte[] bytes)
        {
            _content = [.. bytes];
            _length = bytes.Length;
            Durable = bytes;
            _lost.Clear();
        }
    }

    private sealed class Writable(FaultyFileSystem owner, WritableFile inner, FileNode node, string path) : WritableFile
    {
        private int _disposed;

        public override void Write(IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset)
        {
            owner.BeforeOperationUnlocked?.Invoke(FileOp.Write, path);
            lock (owner._gate)
            {
                owner.Enter(FileOp.Write, path);
                inner.Write(buffers, offset);
                node.Write(buffers, offset);
            }
        }

        public override void Flush()
        {
            owner.BeforeOperationUnlocked?.Invoke(FileOp.Flush, path);
            lock (owner._gate)
            {
                try
                {
                    owner.Enter(FileOp.Flush, path);
                }
                catch (InjectedIOException)
                {
                    node.LoseUnflushed();
                    throw;
                }

                if (owner.PassThroughFlush) inner.Flush();
                if (!owner.IgnoreFileFlush) node.SnapshotDurable();
            }
        }

        public override void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            inner.Dispose();
            Interlocked.Decrement(ref owner._openHandles);
        }
    }

    private sealed class Readable(FaultyFileSystem owner, ReadableFile inner, string path) : ReadableFile
    {
        private int _disposed;

        public override long Length
        {
            get
            {
                lock (owner._gate)
                {
                    if (owner._poweredOff) throw new PowerCutException($"The power is off: length of '{path}'.");
                    return inner.Length;
                }
            }
        }

        public override int Read(Span<byte> destination, long offset)
        {
            lock (owner._gate)
            {
                owner.Enter(FileOp.Read, path);
                return inner.Read(destination, offset);
            }
        }

        public override void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            inner.Dispose();
            Interlocked.Decrement(ref owner._openHandles);
        }
    }
}

/// <summary>How adversarial a power cut is.</summary>
public sealed class PowerCutOptions
{
    /// <summary>The chance that a file with unflushed bytes keeps a random prefix of them. Default 0.5.</summary>
    public double TornWriteProbability { get; init; } = 0.5;

    /// <summary>
    /// Let each entry change no directory flush covered reach the platter anyway with probability ½
    /// (ext4 often does). Off by default: RocksDB's model drops them all.
    /// </summary>
    public bool KeepUnsyncedEntries { get; init; }
}

/// <summary>What a power cut undid.</summary>
public sealed class PowerCutReport
{
    public int EntriesLost { get; set; }

    public int EntriesRestored { get; set; }

    public int UnsyncedEntriesKept { get; set; }

    public int FilesTruncated { get; set; }

    public int TornWrites { get; set; }

    public int DirectoriesLost { get; set; }

    public override string ToString() =>
        $"{EntriesLost} entries lost, {EntriesRestored} restored, {UnsyncedEntriesKept} unsynced kept, {FilesTruncated} files truncated, {TornWrites} torn, {DirectoriesLost} directories lost";
}
