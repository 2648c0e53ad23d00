namespace BlobStorage.Tests.Crash;

/// <summary>A blob's state as the crash tests track it: its content's SHA-256 and the operation that set its metadata.</summary>
/// <param name="Hash">SHA-256 of the content, 64 lowercase hexadecimal characters.</param>
/// <param name="Version">The <c>v</c> metadata every write of the host sets: <c>seed:operation index</c>.</param>
public sealed record BlobVersion(string Hash, string Version)
{
    public override string ToString() => $"{Hash[..12]}… (v {Version})";
}

/// <summary>The operation the host had begun and not acknowledged when it died.</summary>
/// <param name="Operation">upload, overwrite, copy, multipart, metadata, delete, ...</param>
/// <param name="Blob">The blob it changes (the destination of a copy).</param>
/// <param name="ChangesBlob">False for reads, aborted multipart uploads and maintenance.</param>
/// <param name="After">The blob's state had it completed; null for a delete.</param>
public sealed record InFlight(string Operation, string Blob, bool ChangesBlob, BlobVersion? After);

/// <summary>
/// What the store must hold after a crash, learned from the host's lines. Per blob: the state the
/// last acknowledged operation left (or the state verified after the previous crash), every content
/// hash that any operation began to write, and the one operation in flight at the crash, whose
/// effect may or may not be visible. The host is sequential, so at most one operation is in flight.
/// </summary>
public sealed class CrashModel
{
    private readonly SortedDictionary<string, BlobVersion?> _acked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _written = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _history = new(StringComparer.Ordinal);

    /// <summary>Whether the container exists as the last acknowledged container call (or the last check) left it.</summary>
    public bool ContainerAcknowledged { get; private set; }

    /// <summary>The operation begun and not acknowledged, if the host died in the middle of one.</summary>
    public InFlight? Pending { get; private set; }

    /// <summary>Acknowledged operations in the run last read (the container's creation not counted).</summary>
    public int Acknowledged { get; private set; }

    /// <summary>Every blob name the model knows of.</summary>
    public IEnumerable<string> Names => _acked.Keys;

    /// <summary>The state the last acknowledged operation left; null when absent.</summary>
    public BlobVersion? AckedState(string name) => _acked.GetValueOrDefault(name);

    /// <summary>Whether the container may exist: as acknowledged, or as the container call in flight would leave it.</summary>
    public IReadOnlyList<bool> AcceptableContainer() => Pending?.Operation switch
    {
        "create-container" => [ContainerAcknowledged, true],
        "delete-container" => [ContainerAcknowledged, false],
        _ => [ContainerAcknowledged],
    };

    /// <summary>
    /// The states a blob may be found in: the acknowledged one, or the in-flight operation's result. A
    /// container deletion in flight took every blob with it, or none: with the container still there,
    /// each blob is as acknowledged.
    /// </summary>
    public IReadOnlyList<BlobVersion?> Acceptable(string name, bool containerExists)
    {
        if (Pending?.Operation == "delete-container") return [containerExists ? AckedState(name) : null];
        var states = new List<BlobVersion?> { AckedState(name) };
        if (Pending is { ChangesBlob: true } p && p.Blob == name && !states.Contains(p.After)) states.Add(p.After);
        return states;
    }

    /// <summary>True when <paramref name="hash"/> is the content of a version some operation wrote (or began to write) to <paramref name="name"/>.</summary>
    public bool WasWritten(string name, string hash) => _written.TryGetValue(name, out var hashes) && hashes.Contains(hash);

    /// <summary>What happened to a blob in the run last read, for a failure message.</summary>
    public string History(string name) =>
        _history.TryGetValue(name, out var lines) ? string.Join(" | ", lines.TakeLast(8)) : "(no operation this run)";

    /// <summary>Reads one run's lines: <c>BEGIN</c> and <c>ACK</c> in strict alternation, the k-th <c>BEGIN</c> being operation k of <paramref name="seed"/>.</summary>
    public void Read(HostRun run, int seed)
    {
        Pending = null;
        Acknowledged = 0;
        _history.Clear();
        var operation = 0;
        string? begun = null;
        foreach (var line in run.Lines)
        {
            var fields = line.Split(' ');
            switch (fields[0])
            {
                case "READY" or "DONE":
                    continue;
                case "FAIL":
                    throw new AssertionException($"The crash host (seed {seed}) failed in '{line}':{Environment.NewLine}{run.Stderr}");
                case "BEGIN" when fields.Length == 4 && begun is null:
                    begun = line;
                    Pending = Begin(fields[1], fields[2], fields[3], $"{seed}:{(fields[1] == "create-container" ? -1 : operation++)}");
                    break;
                case "ACK" when fields.Length == 4 && begun is not null && begun == "BEGIN" + line[3..]:
                    Acknowledge(Pending!);
                    begun = null;
                    Pending = null;
                    break;
                default:
                    throw new AssertionException($"The crash host (seed {seed}) wrote '{line}' after '{begun ?? "an acknowledgement"}'; the protocol is BEGIN then ACK of the same call.");
            }
        }
    }

    /// <summary>After a crash has been checked, what the store was found to hold is the baseline of the next run.</summary>
    public void Reset(bool containerExists, IReadOnlyDictionary<string, BlobVersion> found)
    {
        ContainerAcknowledged = containerExists;
        Pending = null;
        _acked.Clear();
        _written.Clear();
        foreach (var (name, state) in found)
        {
            _acked[name] = state;
            _written[name] = [state.Hash];
        }
    }

    private InFlight Begin(string op, string blob, string hash, string version)
    {
        Note(blob, $"BEGIN {op} {Short(hash)} v {version}");
        switch (op)
        {
            case "create-container" or "delete-container" or "read" or "multipart-abort" or "maintenance":
                if (op == "read") ExpectCurrent(blob, hash);
                return new InFlight(op, blob, ChangesBlob: false, After: null);
            case "delete":
                return new InFlight(op, blob, ChangesBlob: true, After: null);
            case "metadata":
                ExpectCurrent(blob, hash);
                return new InFlight(op, blob, ChangesBlob: true, new BlobVersion(hash, version));
            case "upload" or "overwrite" or "copy" or "multipart":
                if (!_written.TryGetValue(blob, out var hashes)) _written[blob] = hashes = [];
                hashes.Add(hash);
                return new InFlight(op, blob, ChangesBlob: true, new BlobVersion(hash, version));
            default:
                throw new AssertionException($"The crash host began an unknown operation '{op}'.");
        }
    }

    private void Acknowledge(InFlight done)
    {
        Note(done.Blob, $"ACK {done.Operation}");
        if (done.Operation == "create-container")
        {
            ContainerAcknowledged = true;
            return;
        }

        Acknowledged++;
        if (done.Operation == "delete-container")
        {
            ContainerAcknowledged = false;
            foreach (var name in _acked.Keys.ToList()) _acked[name] = null;
        }

        if (done.ChangesBlob) _acked[done.Blob] = done.After;
    }

    // The host's own view must agree with the model's: a read or a metadata update names the current content.
    private void ExpectCurrent(string blob, string hash)
    {
        var current = AckedState(blob);
        if (current?.Hash != hash)
        {
            throw new AssertionException($"The crash host acted on blob '{blob}' as holding {Short(hash)}; the acknowledged state is {current?.ToString() ?? "absent"}.");
        }
    }

    private void Note(string blob, string what)
    {
        if (!_history.TryGetValue(blob, out var lines)) _history[blob] = lines = [];
        lines.Add(what);
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] + "…" : hash;
}
