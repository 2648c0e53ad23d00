using System.Buffers;
using BlobStorage.Abstractions;

namespace BlobStorage.Metadata.Sqlite;

/// <summary>
/// The distinct chunks of a chunk list with how often each appears, so that a chunk listed k times
/// is counted with one statement that adds (or removes) k. The list is sorted in a pooled array:
/// no dictionary per commit, and rows are visited in key order.
/// </summary>
internal struct ChunkGroups : IDisposable
{
    private static readonly IComparer<ChunkReference> ById = Comparer<ChunkReference>.Create(static (a, b) => a.Id.CompareTo(b.Id));
    private ChunkReference[]? _sorted;
    private readonly int _count;
    private int _next;

    private ChunkGroups(ChunkReference[] sorted, int count)
    {
        _sorted = sorted;
        _count = count;
    }

    public static ChunkGroups Of(IReadOnlyList<ChunkReference> chunks)
    {
        var sorted = ArrayPool<ChunkReference>.Shared.Rent(Math.Max(chunks.Count, 1));
        for (var i = 0; i < chunks.Count; i++) sorted[i] = chunks[i];
        Array.Sort(sorted, 0, chunks.Count, ById);
        return new ChunkGroups(sorted, chunks.Count);
    }

    /// <summary>Moves to the next distinct chunk: its id, its length and how many entries name it.</summary>
    public bool MoveNext(out ChunkId id, out int length, out int count)
    {
        if (_sorted is null || _next >= _count)
        {
            id = default;
            length = 0;
            count = 0;
            return false;
        }

        var first = _sorted[_next];
        var end = _next + 1;
        while (end < _count && _sorted[end].Id == first.Id) end++;
        id = first.Id;
        length = first.Length;
        count = end - _next;
        _next = end;
        return true;
    }

    public void Dispose()
    {
        if (_sorted is null) return;
        ArrayPool<ChunkReference>.Shared.Return(_sorted);
        _sorted = null;
    }
}
