using System.Net;
using System.Net.Sockets;

namespace Aims.Evidence.TestSupport;

/// <summary>Loopback ports for servers the tests start.</summary>
public static class FreePort
{
    /// <summary>A port nothing listens on right now (the system's choice for an ephemeral listener, released at once).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Waits until something accepts connections on the loopback port; false after <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitUntilOpenAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        return false;
    }
}
