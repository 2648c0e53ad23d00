using System.Text;

namespace BlobStorage.ScaleHost;

/// <summary>
/// The host's stdout protocol, one line per event (fields separated by one space, names without spaces):
/// <c>READY</c> once the store is open;
/// <c>ACK &lt;role&gt; CREATE|UPDATE &lt;name&gt; &lt;etag&gt; &lt;sha256&gt; &lt;previous etag|-&gt;</c> for each acknowledged write;
/// <c>REFUSED &lt;role&gt; &lt;name&gt;</c> when a condition was not met; <c>BUSY &lt;role&gt; &lt;name&gt;</c> when a commit was refused
/// by a collection (retried); <c>READ &lt;role&gt; &lt;name&gt; &lt;etag&gt; &lt;sha256&gt;</c> for each download whose bytes matched its hash;
/// <c>PASS &lt;role&gt; &lt;chunks collected&gt; &lt;orphans removed&gt;</c> per maintenance pass; <c>COMMIT &lt;role&gt; &lt;name&gt;</c> when
/// the last byte of an upload has been read (its commit follows); <c>ERROR &lt;role&gt; ...</c> for anything unexpected;
/// <c>DONE &lt;seconds&gt;</c> at the end. Each line is one write to an unbuffered stdout, shorter than a pipe's atomic
/// size, so a kill never leaves half a line and concurrent roles never interleave inside one.
/// </summary>
internal sealed class Report
{
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private readonly Lock _gate = new();

    public void Line(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text + "\n");
        lock (_gate)
        {
            _stdout.Write(bytes);
            _stdout.Flush();
        }
    }
}
