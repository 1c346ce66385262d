using System.CommandLine;
using System.Globalization;
using OrleansLocks.Cli.Connection;

namespace OrleansLocks.Cli;

/// <summary>The options every command takes: where the cluster is, and how to print.</summary>
internal sealed class GlobalOptions
{
    private const double MaxConnectTimeoutSeconds = 300;

    public Option<string[]> Gateways { get; } = new("--gateway", "-g")
    {
        Description = $"A silo gateway, host:port (repeatable): connect by static clustering. Without this and without a connection string: {ClusterTarget.DefaultGateway}, the Silo's development default.",
        HelpName = "host:port",
        Recursive = true,
    };

    public Option<string> ConnectionString { get; } = new("--connection-string")
    {
        Description = $"The PostgreSQL connection string of the silos' database: find the gateways in its membership table (ADO.NET clustering). Default: the environment variable {ClusterTarget.ConnectionStringVariable}. Never printed.",
        Recursive = true,
    };

    public Option<string> ClusterId { get; } = new("--cluster-id")
    {
        Description = "The Orleans cluster id (the Silo's Orleans:ClusterId).",
        DefaultValueFactory = _ => ClusterTarget.DefaultClusterId,
        Recursive = true,
    };

    public Option<string> ServiceId { get; } = new("--service-id")
    {
        Description = "The Orleans service id (the Silo's Orleans:ServiceId).",
        DefaultValueFactory = _ => ClusterTarget.DefaultServiceId,
        Recursive = true,
    };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout")
    {
        Description = "How long to try to reach the cluster, in seconds, before giving up with exit code 3.",
        HelpName = "seconds",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON for scripts (one document per invocation, per refresh for watch; camelCase names) instead of tables.",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "Show the Orleans client's own log on standard error.",
        Recursive = true,
    };

    public GlobalOptions()
    {
        Gateways.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (!GatewayAddress.TryParse(token.Value, out _, out var error))
                {
                    result.AddError(error!);
                }
            }
        });
        ConnectTimeout.Validators.Add(result =>
        {
            var seconds = result.GetValueOrDefault<double>();
            if (!(seconds > 0 && seconds <= MaxConnectTimeoutSeconds))
            {
                result.AddError($"Invalid --connect-timeout: it must be more than 0 and at most {MaxConnectTimeoutSeconds} seconds; it was {seconds.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        foreach (var id in new[] { ClusterId, ServiceId })
        {
            id.Validators.Add(result =>
            {
                if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
                {
                    result.AddError($"Invalid {result.Option.Name}: it must not be empty.");
                }
            });
        }
    }

    public void AddTo(RootCommand root)
    {
        root.Add(Gateways);
        root.Add(ConnectionString);
        root.Add(ClusterId);
        root.Add(ServiceId);
        root.Add(ConnectTimeout);
        root.Add(Json);
        root.Add(Verbose);
    }

    /// <summary>Where to connect, from the options and the environment.</summary>
    /// <exception cref="UsageException">They contradict each other or a value breaks its rule.</exception>
    public ClusterTarget Target(ParseResult parse)
    {
        var gateways = (parse.GetValue(Gateways) ?? []).Select(g =>
            GatewayAddress.TryParse(g, out var address, out var error) ? address! : throw new UsageException(error!)).ToList();
        return ClusterTarget.Choose(
            gateways,
            parse.GetValue(ConnectionString),
            Environment.GetEnvironmentVariable(ClusterTarget.ConnectionStringVariable),
            parse.GetValue(ClusterId)!,
            parse.GetValue(ServiceId)!,
            TimeSpan.FromSeconds(parse.GetValue(ConnectTimeout)));
    }
}
