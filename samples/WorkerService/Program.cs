// A generic host that embeds BlobStorage: AddBlobStorage() registers IBlobStore as a singleton
// and a hosted service that opens the store when the host starts; the worker below receives the
// store by constructor injection. The worker stops the host when it is done, so `dotnet run` ends.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WorkerService;

var builder = Host.CreateApplicationBuilder(args);

// The store lives in ./data under the content root (the working directory), unless the
// configuration says otherwise, e.g. `dotnet run -- --BlobStorage:RootPath=/var/lib/app/blobs`.
var rootPath = builder.Configuration["BlobStorage:RootPath"]
    ?? Path.Combine(builder.Environment.ContentRootPath, "data");
builder.Services.AddBlobStorage(o => o.RootPath = rootPath);   // also registers TimeProvider.System
builder.Services.AddHostedService<Worker>();

using var host = builder.Build();
await host.RunAsync();
