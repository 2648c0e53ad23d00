using BlobStorage.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace BlobStorage.DependencyInjection;

/// <summary>Opens the store when the host starts, so a bad folder or database fails the start, not the first request.</summary>
internal sealed class BlobStoreOpener(IBlobStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        store is TracedBlobStore traced ? traced.OpenAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
