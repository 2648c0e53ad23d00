using System.Text;

namespace BlobStorage.CrashHost;

/// <summary>
/// The host's stdout protocol, one line per event:
/// <c>BEGIN &lt;operation&gt; &lt;blob&gt; &lt;sha256|-&gt;</c> before a call, <c>ACK</c> with the same fields
/// after it returned, <c>READY</c>, <c>DONE</c> and <c>FAIL</c>. Each line is one <c>write</c> to an
/// unbuffered stdout, shorter than a pipe's atomic size, so a kill never leaves half a line and
/// nothing the host printed is lost in a buffer.
/// </summary>
internal sealed class Report
{
    private readonly Stream _stdout = Console.OpenStandardOutput();

    public void Begin(string operation, string blob, string? hash) => Line($"BEGIN {operation} {blob} {hash ?? "-"}");

    public void Ack(string operation, string blob, string? hash) => Line($"ACK {operation} {blob} {hash ?? "-"}");

    public void Line(string text)
    {
        _stdout.Write(Encoding.UTF8.GetBytes(text + "\n"));
        _stdout.Flush();
    }
}
