using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansLocks.Testing;

/// <summary>
/// Hands out loopback TCP ports for silos, gateways, HTTP endpoints and PostgreSQL, each once per process.
/// Ports are taken only from below the kernel's ephemeral range: the operating system gives ports in that range
/// to outgoing connections (a worker to its gateway, a pool to PostgreSQL), so a port found free there can be
/// taken by an outgoing socket before the server that was meant to listen on it binds.
/// </summary>
public static class FreePort
{
    /// <summary>The lowest port handed out.</summary>
    public const int Lowest = 10000;

    private static readonly int Highest = EphemeralRangeStart() - 1;

    // Each process starts at its own place, so that test processes, the chaos program and benchmarks running
    // side by side rarely reach for the same port at the same moment.
    private static int _next = Lowest + (Environment.ProcessId % 1000) * ((Highest - Lowest) / 1000);

    /// <summary>A loopback TCP port nobody listens on right now, below the ephemeral range.</summary>
    public static int Next()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _next);
            if (port > Highest)
            {
                Interlocked.CompareExchange(ref _next, Lowest - 1, port);
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

    /// <summary>Where the kernel starts handing out ports to outgoing connections (32768 when it cannot be read).</summary>
    public static int EphemeralRangeStart()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        try
        {
            var first = File.ReadAllText(path).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
            var start = int.Parse(first, CultureInfo.InvariantCulture);
            return start > Lowest + 2000 ? start : 32768;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}
