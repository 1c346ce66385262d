namespace OrleansLocks.Client.Health;

/// <summary>
/// How many gateways this Orleans client is connected to, as Orleans reports it to its
/// <see cref="IClusterConnectionStatusObserver"/>s (one notification per connection opened or closed).
/// </summary>
internal sealed class GatewayConnections : IClusterConnectionStatusObserver
{
    private int _connected;
    private int _everConnected;

    /// <summary>The gateways connected now.</summary>
    public int Connected => Volatile.Read(ref _connected);

    /// <summary>Whether the client was ever connected to a gateway.</summary>
    public bool EverConnected => Volatile.Read(ref _everConnected) == 1;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        Volatile.Write(ref _connected, currentNumberOfGateways);
        if (currentNumberOfGateways > 0)
        {
            Volatile.Write(ref _everConnected, 1);
        }
    }

    public void NotifyClusterConnectionLost() => Volatile.Write(ref _connected, 0);
}
