using System.IO.Pipelines;

namespace BlobStorage.Internal;

/// <summary>
/// Passes everything to another writer and counts the bytes advanced into it, so that a read that fails
/// halfway can be continued from where it stopped (from another copy) without handing a byte on twice.
/// </summary>
internal sealed class CountingPipeWriter(PipeWriter inner) : PipeWriter
{
    /// <summary>Bytes advanced so far.</summary>
    public long Written { get; private set; }

    public override void Advance(int bytes)
    {
        inner.Advance(bytes);
        Written += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    // Completing belongs to the owner of the inner writer, never to a read that borrows it.
    public override void Complete(Exception? exception = null)
    {
    }
}
