using Npgsql;

namespace OrleansLocks.Cli.Connection;

/// <summary>
/// Where the cluster is: a list of gateways (static clustering), or the PostgreSQL database whose
/// membership table lists them (ADO.NET clustering, as the Silo host uses with a connection string).
/// </summary>
internal sealed class ClusterTarget
{
    /// <summary>The environment variable read when <c>--connection-string</c> is not given.</summary>
    public const string ConnectionStringVariable = "ORLEANSLOCKS_CONNECTION_STRING";

    /// <summary>The cluster and service id of the Silo host unless configured otherwise (Orleans:ClusterId, Orleans:ServiceId).</summary>
    public const string DefaultClusterId = "orleanslocks";

    /// <inheritdoc cref="DefaultClusterId"/>
    public const string DefaultServiceId = "orleanslocks";

    /// <summary>The Silo host's gateway without a database: localhost, Orleans' default gateway port.</summary>
    public static readonly GatewayAddress DefaultGateway = new("127.0.0.1", 30000);

    private ClusterTarget(IReadOnlyList<GatewayAddress> gateways, string? connectionString, string clusterId, string serviceId, TimeSpan connectTimeout)
    {
        Gateways = gateways;
        ConnectionString = connectionString;
        ClusterId = clusterId;
        ServiceId = serviceId;
        ConnectTimeout = connectTimeout;
    }

    /// <summary>The gateways, when connecting by static clustering; empty with a connection string.</summary>
    public IReadOnlyList<GatewayAddress> Gateways { get; }

    /// <summary>The PostgreSQL connection string of the membership table: never printed.</summary>
    public string? ConnectionString { get; }

    public string ClusterId { get; }

    public string ServiceId { get; }

    public TimeSpan ConnectTimeout { get; }

    /// <summary>
    /// Chooses how to connect: explicit <c>--gateway</c> or <c>--connection-string</c> (not both), else
    /// <see cref="ConnectionStringVariable"/>, else <see cref="DefaultGateway"/> (the Silo's development default).
    /// </summary>
    /// <exception cref="UsageException">Both are given, or the connection string is not one.</exception>
    public static ClusterTarget Choose(
        IReadOnlyList<GatewayAddress> gateways,
        string? connectionString,
        string? connectionStringFromEnvironment,
        string clusterId,
        string serviceId,
        TimeSpan connectTimeout)
    {
        if (gateways.Count > 0 && !string.IsNullOrWhiteSpace(connectionString))
        {
            throw new UsageException("Give either --gateway (static clustering) or --connection-string (ADO.NET clustering), not both.");
        }

        if (gateways.Count > 0)
        {
            return new ClusterTarget(gateways, null, clusterId, serviceId, connectTimeout);
        }

        var chosen = !string.IsNullOrWhiteSpace(connectionString) ? connectionString
            : !string.IsNullOrWhiteSpace(connectionStringFromEnvironment) ? connectionStringFromEnvironment
            : null;
        if (chosen is null)
        {
            return new ClusterTarget([DefaultGateway], null, clusterId, serviceId, connectTimeout);
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(chosen);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            // Npgsql's message names the keyword; the string itself (and its password) is never echoed.
            throw new UsageException($"Invalid connection string: it must be a PostgreSQL (Npgsql) connection string such as Host=db;Database=orleanslocks;Username=...; {ex.Message}");
        }

        return new ClusterTarget([], chosen, clusterId, serviceId, connectTimeout);
    }

    /// <summary>Where the tool tries to connect, for messages: never the connection string's password or other secrets.</summary>
    public string Describe()
    {
        if (ConnectionString is null)
        {
            var list = string.Join(", ", Gateways);
            return $"cluster '{ClusterId}' through gateway{(Gateways.Count == 1 ? "" : "s")} {list}";
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var port = builder.Port;
        return $"cluster '{ClusterId}' through the membership table of PostgreSQL database '{builder.Database ?? "(default)"}' at {builder.Host ?? "localhost"}:{port}";
    }
}
