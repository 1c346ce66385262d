using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using OrleansLocks.Client;
using OrleansLocks.Grains;

namespace OrleansLocks.Tests.Abstractions;

/// <summary>Every option out of range is refused at start-up with a message that names the rule.</summary>
public sealed class OptionsValidationTests
{
    public static TheoryData<TimeSpan, TimeSpan, string> BadLeases => new()
    {
        { TimeSpan.Zero, TimeSpan.FromSeconds(1), "LeaseTimeout must be positive" },
        { TimeSpan.FromMinutes(-1), TimeSpan.FromSeconds(1), "LeaseTimeout must be positive" },
        { TimeSpan.FromMinutes(2), TimeSpan.Zero, "RenewalInterval must be positive" },
        { TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(-5), "RenewalInterval must be positive" },
        { TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(41), "at most a third of LeaseTimeout" },
    };

    [Theory]
    [MemberData(nameof(BadLeases))]
    public void LeaseOptions_OutOfRange_AreRefusedNamingTheRule(TimeSpan lease, TimeSpan renewal, string rule)
    {
        var result = new LockLeaseOptionsValidator().Validate(null, new LockLeaseOptions { LeaseTimeout = lease, RenewalInterval = renewal });
        Assert.True(result.Failed);
        Assert.Contains(rule, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void LeaseOptions_Defaults_AreSynapses()
    {
        var options = new LockLeaseOptions();
        Assert.Equal(TimeSpan.FromMinutes(2), options.LeaseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RenewalInterval);
        Assert.True(new LockLeaseOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(new LockLeaseOptionsValidator().Validate(null, new LockLeaseOptions { RenewalInterval = TimeSpan.FromSeconds(40) }).Succeeded);
    }

    public static TheoryData<Action<LockStorageOptions>, string> BadStorage => new()
    {
        { o => o.StorageProviderName = "", "StorageProviderName must be a non-empty name" },
        { o => o.ConnectionString = "  ", "ConnectionString must be null" },
        { o => o.SweepInterval = TimeSpan.FromSeconds(59), "SweepInterval must be at least 1 minute" },
        { o => o.FreeRowRetention = TimeSpan.Zero, "FreeRowRetention must be positive" },
    };

    [Theory]
    [MemberData(nameof(BadStorage))]
    public void StorageOptions_OutOfRange_AreRefusedNamingTheRule(Action<LockStorageOptions> configure, string rule)
    {
        var options = new LockStorageOptions();
        configure(options);
        var result = new LockStorageOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(rule, result.FailureMessage, StringComparison.Ordinal);
    }

    public static TheoryData<Action<LockWaitOptions>, string> BadWait => new()
    {
        { o => o.PollInterval = TimeSpan.Zero, "PollInterval must be positive" },
        { o => o.PollInterval = TimeSpan.FromMinutes(11), "PollInterval must be positive and at most 10 minutes" },
        { o => o.WaiterTimeout = TimeSpan.FromSeconds(-1), "WaiterTimeout must be positive" },
        { o => o.MaxWaiters = 0, "MaxWaiters must be between 1 and 1,000,000" },
        { o => o.MaxWaiters = 1_000_001, "MaxWaiters must be between 1 and 1,000,000" },
    };

    [Theory]
    [MemberData(nameof(BadWait))]
    public void WaitOptions_OutOfRange_AreRefusedNamingTheRule(Action<LockWaitOptions> configure, string rule)
    {
        var options = new LockWaitOptions();
        configure(options);
        var result = new LockWaitOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(rule, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void WaitOptions_Defaults_AreValid_AndPollWithinOrleansResponseTimeout()
    {
        var options = new LockWaitOptions();
        Assert.True(new LockWaitOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(options.PollInterval < new Orleans.Configuration.SiloMessagingOptions().ResponseTimeout);
    }

    public static TheoryData<Action<LockClientOptions>, string> BadClient => new()
    {
        { o => o.Owner = "", LockOwner.Rule },
        { o => o.Owner = new string('o', 257), LockOwner.Rule },
        { o => o.Owner = "nul\0", LockOwner.Rule },
        { o => o.MaxAttempts = 0, "MaxAttempts must be from 1 to 10" },
        { o => o.MaxAttempts = 11, "MaxAttempts must be from 1 to 10" },
        { o => o.RetryDelay = TimeSpan.FromMilliseconds(-1), "RetryDelay must be from 0 to 10 seconds" },
        { o => o.RetryDelay = TimeSpan.FromSeconds(11), "RetryDelay must be from 0 to 10 seconds" },
    };

    [Theory]
    [MemberData(nameof(BadClient))]
    public void ClientOptions_OutOfRange_AreRefusedNamingTheRule(Action<LockClientOptions> configure, string rule)
    {
        var options = new LockClientOptions();
        configure(options);
        var result = new LockClientOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(rule, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientOptions_DefaultOwner_IsHostNameAndProcessId()
    {
        Assert.Equal($"{Environment.MachineName}/{Environment.ProcessId}", new LockClientOptions().Owner);
    }

    [Fact]
    public async Task ClientHost_WithBadOptions_FailsToStartNamingTheRule()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client => client
            .UseLocalhostClustering(gatewayPort: 1)
            .AddOrleansLocks(configureLease: o => o.RenewalInterval = TimeSpan.FromMinutes(1)));
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("at most a third of LeaseTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloHost_WithBadOptions_FailsToStartNamingTheRule()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: FreePort.Next(), gatewayPort: FreePort.Next())
            .AddOrleansLocks(o => o.SweepInterval = TimeSpan.FromSeconds(1))
            .UseInMemory());
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("SweepInterval must be at least 1 minute", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<object, string> RangeMessages => new()
    {
        { new LockLeaseOptions { LeaseTimeout = TimeSpan.FromDays(2) }, "LeaseTimeout must be positive and at most 1 day (was 2.00:00:00)." },
        { new LockWaitOptions { MaxWaiters = 0 }, "MaxWaiters must be between 1 and 1,000,000 (was 0)." },
        { new LockStorageOptions { SweepInterval = TimeSpan.FromSeconds(59) }, "SweepInterval must be at least 1 minute, Orleans' minimum reminder period (was 00:00:59)." },
        { new LockClientOptions { RetryDelay = TimeSpan.FromSeconds(11), MaxRetryDelay = TimeSpan.FromSeconds(20) }, "RetryDelay must be from 0 to 10 seconds (was 00:00:11)." },
    };

    [Theory]
    [MemberData(nameof(RangeMessages))]
    public void ARangeRule_NamesTheOptionTheRuleAndTheValue_Once(object options, string message)
    {
        var result = options switch
        {
            LockLeaseOptions lease => new LockLeaseOptionsValidator().Validate(null, lease),
            LockWaitOptions wait => new LockWaitOptionsValidator().Validate(null, wait),
            LockStorageOptions storage => new LockStorageOptionsValidator().Validate(null, storage),
            LockClientOptions client => new LockClientOptionsValidator().Validate(null, client),
            _ => throw new ArgumentOutOfRangeException(nameof(options)),
        };

        Assert.True(result.Failed);
        Assert.Equal(message, Assert.Single(result.Failures!));
    }

    [Fact]
    public void EveryRuleBroken_IsReportedTogether()
    {
        var result = new LockStorageOptionsValidator().Validate(null, new LockStorageOptions
        {
            StorageProviderName = "",
            SweepInterval = TimeSpan.Zero,
            FreeRowRetention = TimeSpan.Zero,
        });

        Assert.Equal(3, result.Failures!.Count());
    }
}
