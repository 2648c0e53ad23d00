using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BlobStorage.Tests.Support;
using BlobStorage.Urls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebGallery;

namespace BlobStorage.Tests.AspNetCore;

/// <summary>
/// The WebGallery sample's own page, endpoints and seed data on Kestrel at 127.0.0.1, loaded in headless Chromium
/// (Debian's <c>chromium</c>): the screenshot must show the sample's gradient PNG, fetched through its signed URL.
/// </summary>
[TestFixture]
[Category("Browser")]
public sealed class GalleryBrowserTests
{
    private const int WindowWidth = 1024;
    private const int WindowHeight = 768;
    private const int Blue = 160;          // every pixel of the sample's gradient has this blue
    private const int Tolerance = 6;       // per channel, for any colour conversion on the way to the screen
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(120);

    [Test]
    [CancelAfter(240_000)]
    public async Task The_gallery_page_renders_its_image_through_a_signed_url_in_headless_chromium(CancellationToken cancellationToken)
    {
        var chromium = FindOnPath("chromium");
        if (chromium is null)
        {
            Assert.Ignore("Headless Chromium is not installed (no `chromium` on PATH): install Debian's chromium package to run this test; .ci/run installs it.");
        }

        using var folder = new TempFolder("gallery-browser");
        var storePath = Path.Combine(folder.Path, "store");
        var browserHome = Path.Combine(folder.Path, "home");
        var profile = Path.Combine(folder.Path, "profile");
        var screenshot = Path.Combine(folder.Path, "screenshot.png");
        Directory.CreateDirectory(browserHome);

        var port = FreeLoopbackPort();
        var origin = new Uri($"http://127.0.0.1:{port}/");
        var imagePath = "/blobs/" + GalleryPage.Container + "/" + GalleryPage.Image;
        var imageRequests = new ConcurrentQueue<(string Query, int Status)>();

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls(origin.GetLeftPart(UriPartial.Authority));
        builder.Logging.ClearProviders();
        builder.Services.AddBlobStorage(o =>
        {
            o.RootPath = storePath;
            o.MaintenanceInterval = Timeout.InfiniteTimeSpan;
            o.Urls.BaseAddress = new Uri(origin, "blobs/");
            o.Urls.SigningKeys.Add(HttpTestHost.Key);
        });
        await using var app = builder.Build();
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Request.Path.Value == imagePath) imageRequests.Enqueue((context.Request.QueryString.Value ?? "", context.Response.StatusCode));
        });
        Gallery.Map(app);
        await app.StartAsync(cancellationToken);
        try
        {
            await Gallery.SeedAsync(app.Services.GetRequiredService<IBlobStore>());

            var browser = await RunChromiumAsync(chromium, origin, screenshot, profile, browserHome, cancellationToken);
            File.Exists(screenshot).Should().BeTrue($"chromium writes the screenshot (exit code {browser.ExitCode}, stderr: {browser.Errors})");

            // The browser fetched the image through its signed URL, and the store served it.
            imageRequests.Should().NotBeEmpty("the page's <img> is loaded from the blob endpoint");
            imageRequests.Should().OnlyContain(r => r.Status == StatusCodes.Status200OK && r.Query.Contains("sig=", StringComparison.Ordinal),
                "every image request carries the page's signature and is served");

            // The same path without the signature is refused, so the signature is what let the browser in.
            using (var client = new HttpClient { BaseAddress = origin })
            {
                using var unsigned = await client.GetAsync(imagePath, cancellationToken);
                ((int)unsigned.StatusCode).Should().BeOneOf([StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden], "the gallery container is private");
            }

            var image = PngImage.Decode(await File.ReadAllBytesAsync(screenshot, cancellationToken));
            image.Width.Should().Be(WindowWidth);
            image.Height.Should().Be(WindowHeight);
            AssertGradientIsShown(image);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Finds the rows of the screenshot that hold a run of about <see cref="GalleryPage.ImageWidth"/> pixels with the gradient's blue,
    /// checks there are about <see cref="GalleryPage.ImageHeight"/> of them in one block, and that the colours across it are the
    /// sample's gradient: red rising from left to right, green from top to bottom.
    /// </summary>
    private static void AssertGradientIsShown(PngImage image)
    {
        var rows = new List<(int Y, int Left, int Length)>();
        for (var y = 0; y < image.Height; y++)
        {
            var (left, length) = LongestRun(image, y);
            if (length >= GalleryPage.ImageWidth * 9 / 10) rows.Add((y, left, length));
        }

        rows.Should().NotBeEmpty("the screenshot shows the gradient image (no row has a long run of its blue)");
        var top = rows[0].Y;
        var left0 = rows[0].Left;
        rows.Select(r => r.Y).Should().Equal(Enumerable.Range(top, rows.Count), "the image is one block of rows");
        rows.Count.Should().BeInRange(GalleryPage.ImageHeight - 2, GalleryPage.ImageHeight + 2, "the image is shown at its own height");
        rows.Should().OnlyContain(r => Math.Abs(r.Left - left0) <= 1 && Math.Abs(r.Length - GalleryPage.ImageWidth) <= 2,
            "the image is a rectangle of its own width");

        var width = rows[0].Length;
        var height = rows.Count;
        var checkedPixels = 0;
        var wrong = new List<string>();
        for (var j = 0; j < height; j += 4)
        {
            for (var i = 0; i < width; i += 4)
            {
                var (r, g, b) = image.Pixel(left0 + i, top + j);
                var expectedR = 255 * i / GalleryPage.ImageWidth;
                var expectedG = 255 * j / GalleryPage.ImageHeight;
                checkedPixels++;
                if (Math.Abs(r - expectedR) > Tolerance || Math.Abs(g - expectedG) > Tolerance || Math.Abs(b - Blue) > Tolerance)
                {
                    wrong.Add($"({i},{j}) is ({r},{g},{b}), expected about ({expectedR},{expectedG},{Blue})");
                }
            }
        }

        checkedPixels.Should().BeGreaterThan(3000);
        wrong.Should().BeEmpty($"the {width} x {height} region at ({left0},{top}) is the sample's gradient");
        TestContext.Out.WriteLine($"Gradient found at ({left0},{top}), {width} x {height}; {checkedPixels} sampled pixels match.");
    }

    private static (int Left, int Length) LongestRun(PngImage image, int y)
    {
        int bestLeft = 0, bestLength = 0, start = -1;
        for (var x = 0; x <= image.Width; x++)
        {
            var inside = x < image.Width && IsGradientBlue(image.Pixel(x, y));
            if (inside && start < 0) start = x;
            if (!inside && start >= 0)
            {
                if (x - start > bestLength) (bestLeft, bestLength) = (start, x - start);
                start = -1;
            }
        }

        return (bestLeft, bestLength);
    }

    private static bool IsGradientBlue((int R, int G, int B) pixel) => Math.Abs(pixel.B - Blue) <= Tolerance;

    private sealed record BrowserRun(int ExitCode, string Errors);

    private static async Task<BrowserRun> RunChromiumAsync(string chromium, Uri url, string screenshot, string profile, string home, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                     "--user-data-dir=" + profile, "--screenshot=" + screenshot, $"--window-size={WindowWidth},{WindowHeight}", url.ToString(),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["HOME"] = home;
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(home, ".config");
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(home, ".cache");

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + chromium);
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(BrowserTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"chromium did not finish within {BrowserTimeout.TotalSeconds} s and was killed; stderr: {await errors}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }

        await output;
        var stderr = await errors;
        process.ExitCode.Should().Be(0, $"chromium takes the screenshot (stderr: {stderr})");
        return new BrowserRun(process.ExitCode, stderr);
    }

    private static string? FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists);

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A minimal PNG decoder for what Chromium writes: 8-bit RGB or RGBA, not interlaced.</summary>
    private sealed class PngImage
    {
        private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        private readonly byte[] _pixels;
        private readonly int _channels;

        private PngImage(int width, int height, int channels, byte[] pixels)
        {
            Width = width;
            Height = height;
            _channels = channels;
            _pixels = pixels;
        }

        public int Width { get; }

        public int Height { get; }

        public (int R, int G, int B) Pixel(int x, int y)
        {
            var at = ((y * Width) + x) * _channels;
            return (_pixels[at], _pixels[at + 1], _pixels[at + 2]);
        }

        public static PngImage Decode(byte[] png)
        {
            png.AsSpan(0, Signature.Length).SequenceEqual(Signature).Should().BeTrue("the screenshot is a PNG");
            int width = 0, height = 0, channels = 0;
            using var idat = new MemoryStream();
            var offset = Signature.Length;
            var ended = false;
            while (!ended)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
                var type = Encoding.ASCII.GetString(png, offset + 4, 4);
                var data = png.AsSpan(offset + 8, length);
                switch (type)
                {
                    case "IHDR":
                        width = BinaryPrimitives.ReadInt32BigEndian(data);
                        height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                        data[8].Should().Be(8, "the decoder reads 8-bit channels");
                        channels = data[9] switch
                        {
                            2 => 3,
                            6 => 4,
                            var other => throw new AssertionException($"PNG colour type {other} is not RGB or RGBA"),
                        };
                        data[12].Should().Be(0, "the decoder reads non-interlaced PNGs");
                        break;
                    case "IDAT":
                        idat.Write(data);
                        break;
                    case "IEND":
                        ended = true;
                        break;
                }

                offset += 12 + length;
            }

            channels.Should().BePositive("the PNG has an IHDR chunk");
            var stride = width * channels;
            var raw = new byte[height * (stride + 1)];
            idat.Position = 0;
            using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
            {
                zlib.ReadExactly(raw);
            }

            var pixels = new byte[height * stride];
            for (var y = 0; y < height; y++)
            {
                var filter = raw[y * (stride + 1)];
                var source = raw.AsSpan((y * (stride + 1)) + 1, stride);
                var row = pixels.AsSpan(y * stride, stride);
                var above = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
                for (var i = 0; i < stride; i++)
                {
                    int a = i >= channels ? row[i - channels] : 0, b = above[i], c = i >= channels ? above[i - channels] : 0;
                    var predictor = filter switch
                    {
                        0 => 0,
                        1 => a,
                        2 => b,
                        3 => (a + b) / 2,
                        4 => Paeth(a, b, c),
                        _ => throw new AssertionException($"PNG filter type {filter} in row {y}"),
                    };
                    row[i] = (byte)(source[i] + predictor);
                }
            }

            return new PngImage(width, height, channels, pixels);
        }

        private static int Paeth(int a, int b, int c)
        {
            int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
