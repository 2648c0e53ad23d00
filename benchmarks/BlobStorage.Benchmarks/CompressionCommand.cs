using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;

namespace BlobStorage.Benchmarks;

/// <summary>
/// <c>compression [--corpus DIR] [--seconds N]</c>: the codecs considered for the archive tiers, each
/// compressing and decompressing 4 MiB chunks (the store's default chunk size) of a text corpus and of
/// random bytes. Prints the ratio (raw / compressed) and the speed in MB/s of the raw side. The text corpus
/// is the XML documentation of the .NET reference assemblies (English prose and code names, about 30 MB,
/// no repetition from copying), or every *.xml, *.md and *.cs under <c>--corpus</c>.
/// </summary>
internal static class CompressionCommand
{
    private const int ChunkSize = 4 * 1024 * 1024;

    private sealed record Codec(string Name, Func<byte[], int, byte[], int> Compress, Func<byte[], int, byte[], int> Decompress);

    public static int Run(string[] args)
    {
        string? corpusDir = null;
        var seconds = 2.0;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--corpus") corpusDir = args[i + 1];
            if (args[i] == "--seconds") seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }

        var text = TextCorpus(corpusDir);
        var random = new byte[ChunkSize * 2];
        new Random(42).NextBytes(random);
        Console.WriteLine($"text corpus: {text.Length / 1e6:F1} MB in {text.Length / ChunkSize} chunks of 4 MiB; random: {random.Length / 1e6:F1} MB");
        Console.WriteLine($"{"codec",-22} {"corpus",-7} {"ratio",7} {"comp MB/s",10} {"decomp MB/s",12}");
        foreach (var codec in Codecs())
        {
            foreach (var (corpusName, corpus) in new[] { ("text", text), ("random", random) })
            {
                var (ratio, compress, decompress) = Measure(codec, corpus, seconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{codec.Name,-22} {corpusName,-7} {ratio,7:F2} {compress,10:F0} {decompress,12:F0}"));
            }
        }

        return 0;
    }

    private static IEnumerable<Codec> Codecs()
    {
        foreach (var quality in new[] { 1, 4, 5, 6 })
        {
            yield return new Codec(
                $"Brotli q{quality} (BCL)",
                (src, n, dst) => BrotliEncoder.TryCompress(src.AsSpan(0, n), dst, out var w, quality, 22) ? w : throw new InvalidOperationException(),
                (src, n, dst) => BrotliDecoder.TryDecompress(src.AsSpan(0, n), dst, out var w) ? w : throw new InvalidOperationException());
        }

        foreach (var level in new[] { CompressionLevel.Fastest, CompressionLevel.Optimal })
        {
            yield return new Codec(
                $"ZLib {level} (BCL)",
                (src, n, dst) =>
                {
                    using var output = new MemoryStream(dst);
                    using (var z = new ZLibStream(output, level, leaveOpen: true)) z.Write(src, 0, n);
                    return (int)output.Position;
                },
                (src, n, dst) =>
                {
                    using var z = new ZLibStream(new MemoryStream(src, 0, n), CompressionMode.Decompress);
                    var total = 0;
                    int read;
                    while ((read = z.Read(dst, total, dst.Length - total)) > 0) total += read;
                    return total;
                });
        }

        foreach (var level in new[] { 1, 3, 6 })
        {
            var compressor = new ZstdSharp.Compressor(level);
            var decompressor = new ZstdSharp.Decompressor();
            yield return new Codec(
                $"Zstd {level} (ZstdSharp)",
                (src, n, dst) => compressor.Wrap(src.AsSpan(0, n), dst),
                (src, n, dst) => decompressor.Unwrap(src.AsSpan(0, n), dst));
        }
    }

    private static (double Ratio, double CompressMBps, double DecompressMBps) Measure(Codec codec, byte[] corpus, double seconds)
    {
        var chunks = corpus.Length / ChunkSize;
        var compressed = new byte[chunks][];
        var sizes = new int[chunks];
        var scratch = new byte[ChunkSize + (ChunkSize / 8) + 4096];
        long raw = 0, stored = 0;
        for (var c = 0; c < chunks; c++)
        {
            var chunk = corpus.AsSpan(c * ChunkSize, ChunkSize).ToArray();
            sizes[c] = codec.Compress(chunk, ChunkSize, scratch);
            compressed[c] = scratch.AsSpan(0, sizes[c]).ToArray();
            raw += ChunkSize;
            stored += sizes[c];
            var back = new byte[ChunkSize];
            if (codec.Decompress(compressed[c], sizes[c], back) != ChunkSize || !back.AsSpan().SequenceEqual(chunk)) throw new InvalidOperationException($"{codec.Name} did not round-trip");
        }

        var input = new byte[ChunkSize];
        var output = new byte[ChunkSize];
        double Rate(Action<int> work)
        {
            var watch = Stopwatch.StartNew();
            long bytes = 0;
            var i = 0;
            while (watch.Elapsed.TotalSeconds < seconds || i < chunks)
            {
                work(i % chunks);
                bytes += ChunkSize;
                i++;
            }

            return bytes / 1e6 / watch.Elapsed.TotalSeconds;
        }

        var compressRate = Rate(c =>
        {
            Buffer.BlockCopy(corpus, c * ChunkSize, input, 0, ChunkSize);
            codec.Compress(input, ChunkSize, scratch);
        });
        var decompressRate = Rate(c => codec.Decompress(compressed[c], sizes[c], output));
        return ((double)raw / stored, compressRate, decompressRate);
    }

    /// <summary>The first <paramref name="length"/> bytes of the default text corpus.</summary>
    public static byte[] TextSample(int length) => TextCorpus(null).AsSpan(0, length).ToArray();

    private static byte[] TextCorpus(string? directory)
    {
        IEnumerable<string> files;
        if (directory is not null)
        {
            files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".xml", StringComparison.Ordinal) || f.EndsWith(".md", StringComparison.Ordinal) || f.EndsWith(".cs", StringComparison.Ordinal));
        }
        else
        {
            // <dotnet>/shared/Microsoft.NETCore.App/<version>/ -> <dotnet>/packs/Microsoft.NETCore.App.Ref/*/ref/*/*.xml
            var dotnet = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
            var refs = Path.Combine(dotnet, "packs", "Microsoft.NETCore.App.Ref");
            files = Directory.Exists(refs)
                ? Directory.EnumerateDirectories(refs).OrderDescending().Take(1).SelectMany(v => Directory.EnumerateFiles(v, "*.xml", SearchOption.AllDirectories))
                : throw new InvalidOperationException("No text corpus found; pass --corpus DIR.");
        }

        using var all = new MemoryStream();
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(file);
            all.Write(bytes);
        }

        var length = all.Length / ChunkSize * ChunkSize;
        if (length == 0) throw new InvalidOperationException("The text corpus holds less than one 4 MiB chunk.");
        return all.GetBuffer().AsSpan(0, (int)length).ToArray();
    }
}
