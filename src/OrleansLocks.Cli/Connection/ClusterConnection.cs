using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using OrleansLocks.Admin;

namespace OrleansLocks.Cli.Connection;

/// <summary>An Orleans client connected to the cluster, for one invocation of the tool.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    // Stopping the client must not hold up the tool's exit (a gone silo would make it wait).
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(2);

    private readonly IHost _host;

    private ClusterConnection(IHost host, string where)
    {
        _host = host;
        Where = where;
        Admin = host.Services.GetRequiredService<IClusterClient>().GetGrain<ILockAdminGrain>(0);
    }

    /// <summary>The cluster's admin grain.</summary>
    public ILockAdminGrain Admin { get; }

    /// <summary>Where the connection went (for messages; no secret in it).</summary>
    public string Where { get; }

    /// <summary>Connects, within <see cref="ClusterTarget.ConnectTimeout"/>.</summary>
    /// <param name="target">Where the cluster is.</param>
    /// <param name="log">Where the Orleans client's own log goes (<c>--verbose</c>), or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Ctrl+C.</param>
    /// <exception cref="ClusterUnreachableException">No gateway answered in time, or the membership table could not be read.</exception>
    public static async Task<ClusterConnection> ConnectAsync(ClusterTarget target, LogLevel? log, CancellationToken cancellationToken)
    {
        var where = target.Describe();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (log is { } level)
        {
            builder.Logging.SetMinimumLevel(level);
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(target.ConnectTimeout);
        var endpoints = new List<System.Net.IPEndPoint>();
        foreach (var gateway in target.Gateways)
        {
            endpoints.Add(await gateway.ResolveAsync(timeout.Token));
        }

        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = target.ClusterId;
                o.ServiceId = target.ServiceId;
            });
            if (target.ConnectionString is { } connectionString)
            {
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
            }
            else
            {
                client.UseStaticClustering([.. endpoints]);
            }
        });

        var host = builder.Build();
        try
        {
            // StartAsync may not stop at once when cancelled; the wait is bounded either way.
            await host.StartAsync(timeout.Token).WaitAsync(target.ConnectTimeout, cancellationToken);
            return new ClusterConnection(host, where);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await StopQuietlyAsync(host);
            var why = ex is TimeoutException or OperationCanceledException
                ? $"no gateway answered within {Display.Duration(target.ConnectTimeout)} (--connect-timeout; check the address, --cluster-id and --service-id)"
                : Display.OneLine(Innermost(ex).Message);
            throw new ClusterUnreachableException($"Could not reach the OrleansLocks {where}: {why}.", ex);
        }
        catch
        {
            await StopQuietlyAsync(host);
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await StopQuietlyAsync(_host);

    private static async Task StopQuietlyAsync(IHost host)
    {
        try
        {
            using var cts = new CancellationTokenSource(StopTimeout);
            await host.StopAsync(cts.Token).WaitAsync(StopTimeout);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or ObjectDisposedException or OrleansException)
        {
            // The tool is exiting: a client that cannot say goodbye to a gone cluster is no error.
        }
        finally
        {
            (host as IDisposable)?.Dispose();
        }
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } or OrleansException { InnerException: not null })
        {
            ex = ex.InnerException!;
        }

        return ex;
    }
}
