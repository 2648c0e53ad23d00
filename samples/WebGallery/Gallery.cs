using System.Net;
using System.Text;
using BlobStorage;
using BlobStorage.Abstractions;
using BlobStorage.Urls;

namespace WebGallery;

/// <summary>The gallery's endpoints and content, shared by the program and the browser test.</summary>
public static class Gallery
{
    /// <summary>Maps the store at <c>/blobs</c> and the page at <c>/</c>.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapBlobStorage("/blobs");
        app.MapGet("/", async (IBlobStore store, TimeProvider time, CancellationToken cancellationToken) =>
            Results.Content(await GalleryPage.RenderAsync(store, time.GetUtcNow(), cancellationToken), "text/html; charset=utf-8"));
    }

    /// <summary>Creates the private container with CDN on and puts the image (a <see cref="GradientPng"/> of <see cref="GalleryPage.ImageWidth"/> x <see cref="GalleryPage.ImageHeight"/>) and a note in it; safe to run again.</summary>
    public static async Task SeedAsync(IBlobStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            await store.CreateContainerAsync(GalleryPage.Container, new ContainerOptions { AccessPolicy = AccessPolicy.Private });
        }
        catch (ContainerAlreadyExistsException)
        {
            // Seeded by an earlier run.
        }

        await store.SetCdnConfigurationAsync(GalleryPage.Container, new CdnConfiguration { Enabled = true, EdgeLocations = ["local"], TimeToLive = TimeSpan.FromMinutes(10) });
        using var image = new MemoryStream(GradientPng.Create(GalleryPage.ImageWidth, GalleryPage.ImageHeight));
        await store.UploadAsync(GalleryPage.Container, GalleryPage.Image, image, new BlobUploadOptions { ContentType = "image/png" });
        using var note = new MemoryStream(Encoding.UTF8.GetBytes("Signed URLs: HMAC-SHA256, valid for 15 minutes."));
        await store.UploadAsync(GalleryPage.Container, "notes/readme.txt", note, new BlobUploadOptions { ContentType = "text/plain; charset=utf-8" });
    }
}

/// <summary>The page: the container's blobs, an image and a video, each through a URL signed for 15 minutes.</summary>
public static class GalleryPage
{
    public const string Container = "gallery";
    public const string Image = "images/gradient.png";
    public const string Video = "videos/intro.mp4";
    public const int ImageWidth = 320;
    public const int ImageHeight = 200;

    public static async Task<string> RenderAsync(IBlobStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var expires = now.AddMinutes(15);
        string Signed(string name) => store.Urls.Sign(store.Urls.GetDirectUrl(Container, name), Container, name, BlobPermissions.Read, expires).PathAndQuery;

        var html = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>BlobStorage gallery</title></head><body>");
        html.Append("<h1>BlobStorage gallery</h1><h2>Blobs</h2><ul id=\"blobs\">");
        var hasVideo = false;
        await foreach (var blob in store.ListAllAsync(Container, cancellationToken: cancellationToken))
        {
            hasVideo |= blob.Name == Video;
            html.Append("<li><a href=\"").Append(WebUtility.HtmlEncode(Signed(blob.Name))).Append("\">").Append(WebUtility.HtmlEncode(blob.Name))
                .Append("</a> (").Append(blob.Size).Append(" bytes, ").Append(WebUtility.HtmlEncode(blob.ContentType)).Append(")</li>");
        }

        html.Append("</ul><h2>Image</h2><img id=\"image\" alt=\"gradient\" src=\"").Append(WebUtility.HtmlEncode(Signed(Image))).Append("\">");
        html.Append("<h2>Video</h2>");
        html.Append(hasVideo
            ? "<video id=\"video\" controls preload=\"metadata\" width=\"480\" src=\"" + WebUtility.HtmlEncode(Signed(Video)) + "\"></video>"
            : "<p>No video yet: upload one to <code>" + Video + "</code> with the URL the gallery logged at start.</p>");
        return html.Append("</body></html>").ToString();
    }
}

/// <summary>A PNG made in code (a colour gradient), so the sample needs no binary file.</summary>
public static class GradientPng
{
    public static byte[] Create(int width, int height)
    {
        var raw = new byte[height * (1 + (width * 3))];
        for (var y = 0; y < height; y++)
        {
            var row = y * (1 + (width * 3));
            for (var x = 0; x < width; x++)
            {
                raw[row + 1 + (x * 3)] = (byte)(255 * x / width);
                raw[row + 2 + (x * 3)] = (byte)(255 * y / height);
                raw[row + 3 + (x * 3)] = 160;
            }
        }

        using var compressed = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;  // bits per channel
        header[9] = 2;  // truecolour RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typed));
        png.Write(number);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }

        return ~crc;
    }
}
