using System.IO.Pipelines;

namespace BlobStorage.Internal;

/// <summary>
/// A <see cref="PipeWriter"/> over one caller's buffer: a chunk store's range read lands straight in the memory a
/// <see cref="System.IO.Stream.ReadAsync(Memory{byte}, CancellationToken)"/> caller passed, with no pipe between. The
/// range asked for must fit; flushes do nothing, and completing belongs to nobody.
/// </summary>
internal sealed class BufferPipeWriter(Memory<byte> buffer) : PipeWriter
{
    /// <summary>Bytes advanced so far, from the buffer's start.</summary>
    public int Written { get; private set; }

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, buffer.Length - Written);
        Written += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        var rest = buffer[Written..];
        if (rest.Length < Math.Max(sizeHint, 1))
        {
            throw new InvalidOperationException($"A range read asked for {Math.Max(sizeHint, 1)} bytes of room; the reader's buffer has {rest.Length} left.");
        }

        return rest;
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<FlushResult>(cancellationToken)
            : new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }
}
