using Orleans.Configuration;
using Orleans.Hosting;

namespace OrleansLocks.Chaos;

/// <summary>How every client of a chaos run (worker processes and the controller) joins the cluster.</summary>
internal static class ChaosClient
{
    /// <summary>
    /// The clients' Orleans response timeout. The workers' deadlines are derived from it (a try may
    /// take four attempts of at most this long), so it is defined here once.
    /// </summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The clients' <c>ClockSkewAllowance</c>: a handle gives its lease up this much early, so a silo
    /// clock off by less cannot make two holders. The clock-skew fault and the checker use the same value.
    /// </summary>
    public static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromSeconds(1);

    public static IClientBuilder Configure(IClientBuilder client, string connectionString, string owner, TimeSpan lease, TimeSpan renewal) => client
        .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("chaos", "chaos"))
        .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = ResponseTimeout)
        .UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", connectionString))
        .AddOrleansLocks(o => (o.Owner, o.ClockSkewAllowance) = (owner, ClockSkewAllowance), o => (o.LeaseTimeout, o.RenewalInterval) = (lease, renewal));
}
