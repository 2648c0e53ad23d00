using System.Buffers;
using System.Security.Cryptography;
using BlobStorage.Abstractions;

namespace BlobStorage.ScaleHost;

/// <summary>
/// The work of each role over the shared names <c>shared/n&lt;k&gt;</c> (created once, then overwritten with
/// <c>IfMatch</c> on the ETag read) and <c>once/n&lt;k&gt;</c> (create-only, <c>IfNoneMatch = "*"</c>, never overwritten).
/// </summary>
internal sealed class Roles(IBlobStore store, HostArguments arguments, Report report)
{
    private const int MaxBusyRetries = 20;

    /// <summary>Runs one role for its operations; false when something unexpected happened (reported as ERROR).</summary>
    public async Task<bool> RunAsync(string role, int index)
    {
        // Deterministic per seed, role and position (HashCode.Combine is randomized per process), so --seed replays the same choices.
        var random = new Random((arguments.Seed * 7919) + (index * 31) + Array.IndexOf(HostArguments.KnownRoles, role));
        var tag = $"{role}{arguments.Seed}.{index}";
        try
        {
            return role switch
            {
                "writer" => await WriteAsync(tag, random, arguments.MaxSizeKb * 1024, signalCommit: false),
                "crasher" => await WriteAsync(tag, random, Math.Max(arguments.MaxSizeKb, 1024) * 1024, signalCommit: true),
                "reader" => await ReadAsync(tag, random),
                "collector" => await CollectAsync(tag),
                _ => throw new InvalidOperationException($"Unknown role '{role}'."),
            };
        }
        catch (Exception ex)
        {
            report.Line($"ERROR {tag} {ex.GetType().Name} {OneLine(ex.Message)}");
            await Console.Error.WriteLineAsync(ex.ToString());
            return false;
        }
    }

    private async Task<bool> WriteAsync(string tag, Random random, int maxSize, bool signalCommit)
    {
        var ok = true;
        for (var i = 0; i < arguments.Operations; i++)
        {
            var createOnly = random.Next(3) == 0;
            var name = (createOnly ? "once/n" : "shared/n") + random.Next(arguments.Names).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var content = new byte[random.Next(1, maxSize + 1)];
            random.NextBytes(content);
            var hash = Convert.ToHexStringLower(SHA256.HashData(content));

            string? previous = null;
            if (!createOnly)
            {
                try
                {
                    previous = (await store.GetPropertiesAsync(arguments.Container, name)).ETag;
                }
                catch (BlobNotFoundException)
                {
                }
            }

            var conditions = previous is null ? new BlobRequestConditions { IfNoneMatch = "*" } : new BlobRequestConditions { IfMatch = previous };
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    Stream stream = signalCommit ? new SignalingStream(content, () => report.Line($"COMMIT {tag} {name}")) : new MemoryStream(content, writable: false);
                    var written = await store.UploadAsync(arguments.Container, name, stream, new BlobUploadOptions { Conditions = conditions });
                    if (!written.ContentHash.Equals(hash, StringComparison.OrdinalIgnoreCase))
                    {
                        report.Line($"ERROR {tag} {name} hash {written.ContentHash} acknowledged for content {hash}");
                        ok = false;
                    }

                    report.Line($"ACK {tag} {(previous is null ? "CREATE" : "UPDATE")} {name} {written.ETag} {hash} {previous ?? "-"}");
                    break;
                }
                catch (PreconditionFailedException)
                {
                    report.Line($"REFUSED {tag} {name}");
                    break;
                }
                catch (BlobStorageException ex) when (ex.ErrorCode == BlobErrorCode.StoreBusy && attempt < MaxBusyRetries)
                {
                    // A collection removed a chunk this upload counted on: nothing was committed; the same call is safe again.
                    report.Line($"BUSY {tag} {name}");
                }
            }
        }

        return ok;
    }

    private async Task<bool> ReadAsync(string tag, Random random)
    {
        var ok = true;
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            for (var i = 0; i < arguments.Operations; i++)
            {
                var name = (random.Next(3) == 0 ? "once/n" : "shared/n") + random.Next(arguments.Names).ToString(System.Globalization.CultureInfo.InvariantCulture);
                BlobDownload download;
                try
                {
                    download = await store.DownloadAsync(arguments.Container, name);
                }
                catch (BlobNotFoundException)
                {
                    continue;
                }

                await using (download)
                {
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    int n;
                    while ((n = await download.Content.ReadAsync(buffer)) > 0) sha.AppendData(buffer, 0, n);
                    var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
                    if (!hash.Equals(download.Properties.ContentHash, StringComparison.OrdinalIgnoreCase))
                    {
                        report.Line($"ERROR {tag} {name} read {hash} for ETag {download.Properties.ETag} whose hash is {download.Properties.ContentHash}");
                        ok = false;
                        continue;
                    }

                    report.Line($"READ {tag} {name} {download.Properties.ETag} {hash}");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return ok;
    }

    private async Task<bool> CollectAsync(string tag)
    {
        // Passes spaced by a fraction of the grace period, so garbage the writers leave ages past it while they run.
        var pause = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(20).Ticks, arguments.GracePeriod.Ticks / 4));
        for (var i = 0; i < arguments.Operations; i++)
        {
            var pass = await store.RunMaintenanceAsync();
            report.Line($"PASS {tag} {pass.ChunksCollected} {pass.OrphansRemoved}");
            await Task.Delay(pause);
        }

        return true;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    /// <summary>Gives its content, and calls back when asked for more after the end (the upload's commit comes next).</summary>
    private sealed class SignalingStream(byte[] content, Action atEnd) : Stream
    {
        private int _position;
        private bool _signaled;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => content.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, content.Length - _position);
            content.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            if (n == 0 && buffer.Length > 0 && !_signaled)
            {
                _signaled = true;
                atEnd();
            }

            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
