using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks.Benchmarks.Subjects;
using OrleansLocks.Client;
using OrleansLocks.Testing;

namespace OrleansLocks.Benchmarks;

/// <summary>
/// A silo started inside the benchmark process that hosts the lock grains and takes locks through
/// its own <see cref="ILockProvider"/>, as an application co-hosted with OrleansLocks does: no
/// gateway hop and no client process between the caller and the grain. It is configured like the
/// Silo host (ADO.NET clustering and reminders and the lock storage on one PostgreSQL database,
/// endpoints advertised on loopback, warnings logged), on a database of its own.
/// </summary>
internal static class CoHostedSilo
{
    /// <summary>The subject's name in the report.</summary>
    public const string SubjectName = "OrleansLocks co-hosted (PostgreSQL)";

    /// <summary>Starts the silo; the caller stops it (which releases any lock its provider still holds).</summary>
    public static async Task<(IHost Host, OrleansSubject Subject)> StartAsync(string connectionString, TimeSpan lease, TimeSpan renewal)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("cohosted", "cohosted"));
            silo.ConfigureEndpoints(IPAddress.Loopback, FreePort.Next(), FreePort.Next(), listenOnAnyHostAddress: true);
            silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", connectionString));
            silo.UseAdoNetReminderService(o => (o.Invariant, o.ConnectionString) = ("Npgsql", connectionString));
            silo.AddOrleansLocks(configureLease: o => (o.LeaseTimeout, o.RenewalInterval) = (lease, renewal)).UsePostgres(connectionString);
        });
        builder.Services.AddOrleansLocksClient(o => o.Owner = "bench", o => (o.LeaseTimeout, o.RenewalInterval) = (lease, renewal));
        var host = builder.Build();
        await host.StartAsync();
        var subject = new OrleansSubject(SubjectName, host.Services.GetRequiredService<ILockProvider>(), host.Services.GetRequiredService<IGrainFactory>());
        return (host, subject);
    }
}
