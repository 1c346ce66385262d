using System.Globalization;
using System.Net;

namespace OrleansLocks.Cli.Connection;

/// <summary>One <c>--gateway host:port</c>: a silo's gateway endpoint, by IP address or host name.</summary>
internal sealed record GatewayAddress(string Host, int Port)
{
    public const string Rule = "a gateway is host:port, such as 10.0.0.5:30000, silo1:30000 or [::1]:30000, with a port from 1 to 65535";

    /// <summary>Parses <paramref name="text"/>, or says which rule it breaks.</summary>
    public static bool TryParse(string? text, out GatewayAddress? address, out string? error)
    {
        address = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"Invalid gateway '': {Rule}.";
            return false;
        }

        string host;
        string port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"Invalid gateway '{text}': {Rule}.";
                return false;
            }

            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"Invalid gateway '{text}': {Rule}.";
                return false;
            }

            host = text[..colon];
            port = text[(colon + 1)..];
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535
            || host.Length == 0 || host.Any(char.IsWhiteSpace))
        {
            error = $"Invalid gateway '{text}': {Rule}.";
            return false;
        }

        address = new GatewayAddress(host, number);
        return true;
    }

    /// <summary>The endpoint to connect to: the address itself, or the host name's first address (IPv4 first).</summary>
    /// <exception cref="ClusterUnreachableException">The host name does not resolve.</exception>
    public async Task<IPEndPoint> ResolveAsync(CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(Host, out var ip))
        {
            return new IPEndPoint(ip, Port);
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(Host, cancellationToken);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new ClusterUnreachableException($"Could not reach the cluster: the gateway host '{Host}' does not resolve ({ex.Message}).", ex);
        }

        var chosen = addresses.OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault()
            ?? throw new ClusterUnreachableException($"Could not reach the cluster: the gateway host '{Host}' has no address.");
        return new IPEndPoint(chosen, Port);
    }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
