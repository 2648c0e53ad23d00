using System.Runtime.CompilerServices;
using BlobStorage.Abstractions;

namespace BlobStorage.Tests.Replication;

/// <summary>A chunk store in front of another that, while <see cref="IsDown"/>, fails every call as an unreachable region would.</summary>
internal sealed class SwitchableChunkStore(IChunkStore inner) : IChunkStore
{
    public bool IsDown { get; set; }

    public int FailedCalls { get; private set; }

    /// <summary>Called after each call refused while down.</summary>
    public Action? Refused { get; set; }

    /// <summary>Called after each write the inner store took (written or already there).</summary>
    public Action<ChunkId>? Written { get; set; }

    private void ThrowIfDown()
    {
        if (!IsDown) return;
        FailedCalls++;
        Refused?.Invoke();
        throw new BlobStorageException(BlobErrorCode.IOError, "The node cannot be reached (test).");
    }

    public ValueTask<bool> ExistsAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        return inner.ExistsAsync(id, cancellationToken);
    }

    public async ValueTask<bool> WriteAsync(ChunkId id, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        var written = await inner.WriteAsync(id, content, cancellationToken);
        Written?.Invoke(id);
        return written;
    }

    public ValueTask<int> ReadAsync(ChunkId id, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        return inner.ReadAsync(id, destination, cancellationToken);
    }

    public ValueTask<bool> DeleteAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        return inner.DeleteAsync(id, cancellationToken);
    }

    public ValueTask<DateTimeOffset?> GetLastWriteTimeAsync(ChunkId id, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        return inner.GetLastWriteTimeAsync(id, cancellationToken);
    }

    public async IAsyncEnumerable<ChunkId> EnumerateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        await foreach (var id in inner.EnumerateAsync(cancellationToken)) yield return id;
    }
}
