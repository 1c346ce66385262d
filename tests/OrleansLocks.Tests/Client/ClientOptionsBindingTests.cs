using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using OrleansLocks.Client;

namespace OrleansLocks.Tests.Client;

/// <summary>The client's options come from their configuration sections, then from the delegates given in code.</summary>
public sealed class ClientOptionsBindingTests
{
    [Fact]
    public void TheClientOptions_AreBoundFromTheirSections_ThenTheDelegatesApply()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OrleansLocks:Client:Owner"] = "from-config",
            ["OrleansLocks:Client:MaxAttempts"] = "3",
            ["OrleansLocks:Client:RetryDelay"] = "00:00:01",
            ["OrleansLocks:Lease:LeaseTimeout"] = "00:03:00",
            ["OrleansLocks:Lease:RenewalInterval"] = "00:00:45",
        });
        builder.UseOrleansClient(client => client
            .UseLocalhostClustering(gatewayPort: 1)
            .AddOrleansLocks(o => o.MaxAttempts = 5));
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<LockClientOptions>>().Value;
        var lease = host.Services.GetRequiredService<IOptions<LockLeaseOptions>>().Value;
        Assert.Equal("from-config", options.Owner);
        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), options.RetryDelay);
        Assert.Equal(TimeSpan.FromMinutes(3), lease.LeaseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(45), lease.RenewalInterval);
    }

    [Fact]
    public void AnOptionOutOfRangeInConfiguration_IsRefusedNamingTheRuleAndTheValue()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OrleansLocks:Client:MaxAttempts"] = "11" });
        builder.UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort: 1).AddOrleansLocks());
        using var host = builder.Build();

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<LockClientOptions>>().Value);
        Assert.Contains("MaxAttempts must be from 1 to 10 (was 11).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InASiloThatAlsoHostsTheClient_TheSectionIsBoundOnce_SoTheSilosDelegateStillWins()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OrleansLocks:Lease:LeaseTimeout"] = "00:03:00",
            ["OrleansLocks:Lease:RenewalInterval"] = "00:00:45",
        });
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: 1, gatewayPort: 2)
            .AddOrleansLocks(configureLease: o => o.LeaseTimeout = TimeSpan.FromMinutes(5))
            .UseInMemory());
        builder.Services.AddOrleansLocksClient(configureClient: o => o.Owner = "co-hosted");
        using var host = builder.Build();

        var lease = host.Services.GetRequiredService<IOptions<LockLeaseOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(5), lease.LeaseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(45), lease.RenewalInterval);
        Assert.Equal("co-hosted", host.Services.GetRequiredService<IOptions<LockClientOptions>>().Value.Owner);
    }
}
