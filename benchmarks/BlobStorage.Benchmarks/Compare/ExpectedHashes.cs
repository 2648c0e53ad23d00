using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;

namespace BlobStorage.Benchmarks.Compare;

/// <summary>
/// The SHA-256 of each generated blob, computed once before the cell that puts it (never inside a
/// timed region) and kept for every peer and run, which all put the same content.
/// </summary>
internal sealed class ExpectedHashes
{
    private const int BufferSize = 1024 * 1024;

    private readonly ConcurrentDictionary<(long Size, ulong Seed), byte[]> _hashes = new();

    public byte[] this[long size, ulong seed] => _hashes[(size, seed)];

    /// <summary>Hashes the blobs not hashed yet, on every core.</summary>
    public void Prepare(long size, IEnumerable<ulong> seeds, CancellationToken cancellationToken)
    {
        var missing = seeds.Where(seed => !_hashes.ContainsKey((size, seed))).ToArray();
        Parallel.ForEach(
            missing,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            seed => _hashes[(size, seed)] = Compute(size, seed));
    }

    /// <summary>SHA-256 of a generated stream, read 1 MiB at a time.</summary>
    public static byte[] Compute(long size, ulong seed)
    {
        using var stream = new GeneratedStream(size, seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = stream.Read(buffer, 0, BufferSize)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>
    /// MB/s of generating and hashing <paramref name="size"/> bytes on one core, best of three: the
    /// speed an upload of content already stored can reach at most without parallel hashing.
    /// </summary>
    public static double MeasureSha256(long size)
    {
        var best = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var start = Stopwatch.GetTimestamp();
            _ = Compute(size, seed: 0xC0FFEE + (ulong)i);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return size / best / 1e6;
    }
}
