using BlobStorage.Abstractions;

namespace BlobStorage.Chunks.FileSystem;

/// <summary>
/// Chunk files kept open between reads, each with its checked header and block table, so that a small range read
/// costs one read of the blocks it covers instead of an open, a length, a header read and a close around them.
/// </summary>
/// <remarks>
/// Chunks are immutable and named by their content, so an open file with a checked header stays right for as long as
/// the file keeps its name. Three things keep a kept handle from outliving its file: a delete through the store
/// (collection) drops the handle before it removes the file, and a file opened before such a delete is never added
/// after it; every use first asks the open file whether it still has a name (<see cref="ChunkFileSystem.ReadableFile.IsLinked"/>:
/// deleted or renamed over by anyone, it is dropped and the path opened again, so a collected chunk reads as missing);
/// and a read that fails drops it, so the next read opens the file afresh. At most <c>capacity</c> files are held
/// open, the least recently used closed first; a handle in use is closed when its last reader is done with it.
/// </remarks>
internal sealed class OpenChunkCache : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ChunkId, Entry> _entries = [];
    private readonly LinkedList<Entry> _recent = new();
    private readonly int _capacity;
    private long _removals;
    private bool _disposed;

    public OpenChunkCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>Counts drops by <see cref="Remove"/>: read before opening a file, handed to <see cref="Add"/>.</summary>
    public long Removals
    {
        get
        {
            lock (_gate) return _removals;
        }
    }

    /// <summary>The kept file of <paramref name="id"/>, lent until <see cref="Return"/>; null when none is kept or it has lost its name.</summary>
    public Entry? Rent(ChunkId id)
    {
        Entry? entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out entry)) return null;
            entry.Users++;
            _recent.Remove(entry.Node);
            _recent.AddFirst(entry.Node);
        }

        if (entry.File.IsLinked()) return entry;

        // Deleted or replaced behind the store's back: the bytes it still reads are no longer the chunk the store holds.
        Drop(entry);
        Return(entry);
        return null;
    }

    /// <summary>
    /// Keeps an opened file, lent once to the caller (who gives it back with <see cref="Return"/>). When it cannot be
    /// kept (no room, the file cannot tell whether it still has a name, a drop since <paramref name="removalsBefore"/>),
    /// the entry is lent all the same and closed when it comes back.
    /// </summary>
    public Entry Add(ChunkId id, ChunkFileSystem.ReadableFile file, BlockChunkFormat.Reader reader, long removalsBefore)
    {
        var entry = new Entry(id, file, reader) { Users = 1 };
        if (_capacity == 0 || !file.IsLinked())
        {
            entry.Dropped = true;
            return entry;
        }

        Entry? evicted = null;
        lock (_gate)
        {
            if (_disposed || _removals != removalsBefore || _entries.ContainsKey(id))
            {
                entry.Dropped = true;
                return entry;
            }

            if (_entries.Count >= _capacity)
            {
                evicted = _recent.Last!.Value;
                DropLocked(evicted);
                evicted.Users++;
            }

            _entries.Add(id, entry);
            _recent.AddFirst(entry.Node);
        }

        if (evicted is not null) Return(evicted);
        return entry;
    }

    /// <summary>Gives back a lent entry; closes it when it was dropped and this was its last user.</summary>
    public void Return(Entry entry)
    {
        bool close;
        lock (_gate)
        {
            entry.Users--;
            close = entry.Dropped && entry.Users == 0 && !entry.Closed;
            if (close) entry.Closed = true;
        }

        if (close) entry.Close();
    }

    /// <summary>Drops a lent entry (a read of it failed), so the next read opens the file again.</summary>
    public void Drop(Entry entry)
    {
        lock (_gate) DropLocked(entry);
    }

    /// <summary>Drops the kept file of <paramref name="id"/> before it is deleted; files opened before this are not kept after it.</summary>
    public void Remove(ChunkId id)
    {
        Entry? entry;
        lock (_gate)
        {
            _removals++;
            if (!_entries.TryGetValue(id, out entry)) return;
            DropLocked(entry);
            entry.Users++;
        }

        Return(entry);
    }

    /// <summary>Closes every kept file not in use; those in use close when their readers are done.</summary>
    public void Dispose()
    {
        List<Entry> all;
        lock (_gate)
        {
            _disposed = true;
            all = [.. _entries.Values];
            foreach (var entry in all)
            {
                DropLocked(entry);
                entry.Users++;
            }
        }

        foreach (var entry in all) Return(entry);
    }

    private void DropLocked(Entry entry)
    {
        if (entry.Dropped) return;
        entry.Dropped = true;
        if (_entries.TryGetValue(entry.Id, out var kept) && ReferenceEquals(kept, entry))
        {
            _entries.Remove(entry.Id);
            _recent.Remove(entry.Node);
        }
    }

    /// <summary>An open chunk file and its checked header; safe for several readers at once (reads are positional).</summary>
    internal sealed class Entry
    {
        public Entry(ChunkId id, ChunkFileSystem.ReadableFile file, BlockChunkFormat.Reader reader)
        {
            Id = id;
            File = file;
            Reader = reader;
            Node = new LinkedListNode<Entry>(this);
        }

        public ChunkId Id { get; }

        public ChunkFileSystem.ReadableFile File { get; }

        public BlockChunkFormat.Reader Reader { get; }

        public LinkedListNode<Entry> Node { get; }

        // The rest is guarded by the cache's lock.
        public int Users { get; set; }

        public bool Dropped { get; set; }

        public bool Closed { get; set; }

        public void Close()
        {
            Reader.Dispose();
            File.Dispose();
        }
    }
}
