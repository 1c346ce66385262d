using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Hosting;
using OrleansLocks.Client;
using OrleansLocks.Client.Health;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Health;

/// <summary>
/// The client health check as a user's host runs it (<c>AddHealthChecks().AddOrleansLocksClient()</c>),
/// with a real Orleans client connected to a real Silo process; the client's lease timers run on a fake clock.
/// </summary>
public sealed class LockClientHealthCheckTests
{
    private const string ClusterId = "client-health";

    [Fact]
    public async Task AConnectedClient_IsHealthy_AndALeaseItLost_MakesItDegradedNamingTheLock_UntilTheWindowPasses()
    {
        await using var silo = await StartSiloAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        using var client = await StartClientAsync(silo, clock);
        var locks = client.Services.GetRequiredService<ILockProvider>();

        var connected = await CheckAsync(client);
        Assert.Equal(HealthStatus.Healthy, connected.Status);
        Assert.Contains("connected to 1 gateway", connected.Description, StringComparison.Ordinal);

        // The holder gets no renewal through before its lease's deadline on its own clock: it must
        // presume the lease lost. The silo is paused meanwhile, so that the renewal the jump sets off
        // cannot come back (and move the deadline) before the deadline's callback runs.
        var handle = await locks.TryAcquireAsync("purge_room", "!abc:example.org");
        Assert.NotNull(handle);
        await silo.PauseAsync();
        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        Assert.True(handle.HandleLostToken.IsCancellationRequested);
        await silo.ResumeAsync();

        var degraded = await CheckAsync(client);
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains("lost 1 lease within the last 00:05:00 (locks purge_room;", degraded.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("!abc:example.org", degraded.Description, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(client)).Status);
        await handle.DisposeAsync();
        await client.StopAsync();
    }

    [Fact]
    public async Task AClientWhoseGatewaysAreAllGone_IsUnhealthy()
    {
        var silo = await StartSiloAsync();
        using var client = await StartClientAsync(silo, TimeProvider.System);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(client)).Status);

        await silo.DisposeAsync();

        HealthReportEntry gone = default;
        await Eventually.TrueAsync(
            async () => (gone = await CheckAsync(client)).Status == HealthStatus.Unhealthy,
            "the client noticed that its only gateway closed",
            TimeSpan.FromSeconds(60));
        Assert.Contains("lost its connection to every gateway", gone.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void RecentLeaseLosses_ForgetsALossOnceItIsOlderThanTheWindow_AndKeepsOnlyTheLatest()
    {
        var clock = new FakeTimeProvider();
        var losses = new RecentLeaseLosses(clock);
        losses.Record("first");
        clock.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < RecentLeaseLosses.Capacity; i++)
        {
            losses.Record("later");
        }

        Assert.Equal(RecentLeaseLosses.Capacity, losses.Within(TimeSpan.FromHours(1)).Count);
        Assert.DoesNotContain(losses.Within(TimeSpan.FromHours(1)), l => l.LockName == "first");
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(losses.Within(TimeSpan.FromSeconds(59)));
    }

    private static Task<SiloProcess> StartSiloAsync() => SiloProcess.StartAsync(new Dictionary<string, string>
    {
        ["Orleans__ClusterId"] = ClusterId,
        ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
    });

    private static async Task<IHost> StartClientAsync(SiloProcess silo, TimeProvider clock)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(clock);
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(silo.GatewayPort, "orleanslocks", ClusterId);
            client.AddOrleansLocks(o => o.Owner = "health-client");
        });
        builder.Services.AddHealthChecks().AddOrleansLocksClient();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<HealthReportEntry> CheckAsync(IHost client)
    {
        var report = await client.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries[OrleansLocksClientHealthChecksBuilderExtensions.ClientCheckName];
    }
}
