// BlobStorage web gallery: a private container served over HTTP by MapBlobStorage, and a page that
// lists it and shows its image and video through signed URLs (seeking in the video sends Range requests).
// Run it with `dotnet run --project samples/WebGallery` and open http://localhost:5080/.
// Put a video of your own in it with the upload URL it prints:  curl -T intro.mp4 "<upload URL>"
using System.Security.Cryptography;
using BlobStorage;
using BlobStorage.Urls;
using WebGallery;

var builder = WebApplication.CreateBuilder(args);
var baseAddress = new Uri(builder.Configuration["Gallery:BaseAddress"] ?? "http://localhost:5080/");
builder.WebHost.UseUrls(baseAddress.GetLeftPart(UriPartial.Authority));

// There is no built-in secret: give the key in configuration (Gallery:SigningKey, base64, 32 bytes or more).
// Without one the gallery makes a random key, so links it signed stop working when it restarts.
var secret = builder.Configuration["Gallery:SigningKey"] is { Length: > 0 } configured ? Convert.FromBase64String(configured) : RandomNumberGenerator.GetBytes(32);
builder.Services.AddBlobStorage(o =>
{
    o.RootPath = builder.Configuration["Gallery:RootPath"] ?? "data";
    o.Urls.BaseAddress = new Uri(baseAddress, "blobs/");
    o.Urls.SigningKeys.Add(new BlobSigningKey("gallery", secret));
});

var app = builder.Build();
Gallery.Map(app);

await app.StartAsync();
var store = app.Services.GetRequiredService<IBlobStore>();
await Gallery.SeedAsync(store);
var upload = store.Urls.Sign(store.Urls.GetDirectUrl(GalleryPage.Container, GalleryPage.Video), GalleryPage.Container, GalleryPage.Video, BlobPermissions.Write, DateTimeOffset.UtcNow.AddHours(1));
Console.WriteLine($"Gallery at {baseAddress}; upload a video for the next hour with: curl -T intro.mp4 \"{upload}\"");
await app.WaitForShutdownAsync();
