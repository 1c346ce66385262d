using System.Net;
using System.Net.Sockets;

namespace OrleansLocks.Testing;

public static class FreePort
{
    private static int _next = 20000 + (Environment.ProcessId % 1000) * 20;

    /// <summary>A loopback TCP port nobody listens on right now (handed out once per process).</summary>
    public static int Next()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _next);
            if (port > 60000)
            {
                Interlocked.Exchange(ref _next, 20000);
                continue;
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
                // Taken; try the next.
            }
        }
    }
}
