using System.Net;
using System.Net.Sockets;

namespace BlobStorage.Tests.Support;

/// <summary>
/// A TCP forwarder on 127.0.0.1 to a test server, which a test can take down (refusing new connections and cutting the
/// open ones, as a server that went away) and bring back on the same port.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly List<TcpClient> _open = [];
    private readonly Lock _lock = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _running;
    private Task _accepting = Task.CompletedTask;

    private TcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
    }

    /// <summary>The port the proxy listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Starts forwarding to <paramref name="host"/>:<paramref name="port"/> on a free loopback port.</summary>
    public static TcpProxy Start(string host, int port)
    {
        var proxy = new TcpProxy(host, port);
        proxy.Up();
        return proxy;
    }

    /// <summary>Listens (again) on <see cref="Port"/> and forwards each connection.</summary>
    public void Up()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _running = new CancellationTokenSource();
        _accepting = AcceptAsync(listener, _running.Token);
    }

    /// <summary>Stops listening and cuts every forwarded connection.</summary>
    public async Task DownAsync()
    {
        if (_running is null) return;
        await _running.CancelAsync();
        _listener?.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The listener was stopped under the accept.
        }

        lock (_lock)
        {
            foreach (var client in _open) client.Dispose();
            _open.Clear();
        }

        _running.Dispose();
        _running = null;
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var inbound = await listener.AcceptTcpClientAsync(cancellationToken);
            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(_targetHost, _targetPort, cancellationToken);
            }
            catch (SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            lock (_lock)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }

            _ = PumpAsync(inbound, outbound, cancellationToken);
            _ = PumpAsync(outbound, inbound, cancellationToken);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken cancellationToken)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // A side closed, or the proxy went down.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await DownAsync();
}
