using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Storage;
using OrleansLocks.Grains;
using OrleansLocks.Tests.Grains.Storage;

namespace OrleansLocks.Tests.Grains.Hosting;

/// <summary>
/// What <c>siloBuilder.AddOrleansLocks()</c> registers: the storage the silo chose (and a refusal when it
/// chose none), options bound from their configuration sections, and the connection string kept out of
/// Orleans' options log. Hosts are built, not started, unless the test is about starting.
/// </summary>
public sealed class SiloBuilderStorageChoiceTests
{
    private const string Secret = "s3cret-pw";

    [Fact]
    public void UsePostgres_RegistersTheAdoNetStorage_WithTheTunedConnectionString()
    {
        using var host = BuildSilo(locks => locks.UsePostgres("Host=127.0.0.1;Port=1;Database=locks;Username=u"));

        Assert.IsType<AdoNetGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("OrleansLocks"));
        var ado = host.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get("OrleansLocks");
        var keys = StorageTuningTests.Keys(ado.ConnectionString ?? "");
        Assert.Equal("Npgsql", ado.Invariant);
        Assert.Equal("20", keys["Max Auto Prepare"]);
        Assert.Equal("2", keys["Auto Prepare Min Usages"]);
        Assert.Equal("True", keys["No Reset On Close"], ignoreCase: true);
        Assert.Equal("locks", keys["Database"]);
        Assert.False(ado.DeleteStateOnClear);

        // The lock options keep the string as given: the schema and the sweep connect with it.
        var storage = host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value;
        Assert.Equal("Host=127.0.0.1;Port=1;Database=locks;Username=u", storage.ConnectionString);
        Assert.Equal("OrleansLocks", storage.StorageProviderName);
    }

    [Fact]
    public void UseInMemory_RegistersTheMemoryStorage_AndNoConnectionString()
    {
        using var host = BuildSilo(locks => locks.UseInMemory());

        Assert.IsType<MemoryGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("OrleansLocks"));
        Assert.Null(host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value.ConnectionString);
    }

    [Fact]
    public void TheStorageChoice_WinsOverAConnectionStringFromConfiguration()
    {
        using var host = BuildSilo(
            locks => locks.UseInMemory(),
            new() { ["OrleansLocks:Storage:ConnectionString"] = "Host=elsewhere" });

        Assert.IsType<MemoryGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("OrleansLocks"));
        Assert.Null(host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value.ConnectionString);
    }

    [Theory]
    [InlineData(false, "Host=elsewhere", "ConnectionString must be null when the lock storage is in-memory (UseInMemory)")]
    [InlineData(true, null, "ConnectionString must be set when the lock storage is PostgreSQL (UsePostgres)")]
    public void AConnectionStringChangedAfterTheChoice_IsRefusedNamingTheRule(bool postgres, string? changedTo, string rule)
    {
        using var host = BuildSilo(locks =>
        {
            var silo = postgres ? locks.UsePostgres("Host=h") : locks.UseInMemory();
            silo.Services.Configure<LockStorageOptions>(o => o.ConnectionString = changedTo);
            return silo;
        });

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStorageProviderNameGiven_IsWhereTheStorageIsRegistered_AndWhereTheGrainsLook()
    {
        using var host = BuildSilo(locks => locks.UseInMemory("locks-store"));

        Assert.IsType<MemoryGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("locks-store"));
        Assert.Null(host.Services.GetKeyedService<IGrainStorage>("OrleansLocks"));
        Assert.Equal("locks-store", host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value.StorageProviderName);
    }

    [Fact]
    public void ChoosingTheStorageTwice_IsRefusedAtOnce()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo =>
        {
            silo.AddOrleansLocks().UsePostgres("Host=h");
            var ex = Assert.Throws<InvalidOperationException>(() => silo.AddOrleansLocks().UseInMemory());
            Assert.Contains("already chosen (PostgreSQL as 'OrleansLocks')", ex.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void UsePostgres_WithABlankConnectionString_IsRefusedAtOnce()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => Assert.Throws<ArgumentException>(() => silo.AddOrleansLocks().UsePostgres(" ")));
    }

    [Fact]
    public async Task ASiloThatChoosesNoStorage_RefusesToStartNamingBothChoices()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: FreePort.Next(), gatewayPort: FreePort.Next())
            .AddOrleansLocks());
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("no grain storage provider is registered under StorageProviderName 'OrleansLocks'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("UsePostgres(connectionString)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("UseInMemory()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddOrleansLocksGrains_WithAProviderRegisteredByTheUser_IsAccepted()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort.Next(), gatewayPort: FreePort.Next());
            silo.AddMemoryGrainStorage("mine");
            silo.Services.AddOrleansLocksGrains(o => o.StorageProviderName = "mine");
        });
        using var host = builder.Build();

        Assert.Equal("mine", host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value.StorageProviderName);
    }

    [Fact]
    public void TheSiloOptions_AreBoundFromTheirSections_ThenTheDelegatesApply()
    {
        using var host = BuildSilo(
            locks => locks.UseInMemory(),
            new()
            {
                ["OrleansLocks:Lease:LeaseTimeout"] = "00:03:00",
                ["OrleansLocks:Lease:RenewalInterval"] = "00:00:45",
                ["OrleansLocks:Wait:MaxWaiters"] = "7",
                ["OrleansLocks:Wait:PollInterval"] = "00:00:05",
                ["OrleansLocks:Storage:SweepInterval"] = "00:02:00",
                ["OrleansLocks:Storage:ApplySchema"] = "false",
            },
            configureWait: o => o.PollInterval = TimeSpan.FromSeconds(6));

        var lease = host.Services.GetRequiredService<IOptions<LockLeaseOptions>>().Value;
        var wait = host.Services.GetRequiredService<IOptions<LockWaitOptions>>().Value;
        var storage = host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(3), lease.LeaseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(45), lease.RenewalInterval);
        Assert.Equal(7, wait.MaxWaiters);
        Assert.Equal(TimeSpan.FromSeconds(6), wait.PollInterval);
        Assert.Equal(TimeSpan.FromMinutes(2), storage.SweepInterval);
        Assert.False(storage.ApplySchema);
    }

    [Fact]
    public void APollIntervalOverHalfTheLease_IsRefused_NamingTheRuleBetweenThem()
    {
        using var host = BuildSilo(
            locks => locks.UseInMemory(),
            new() { ["OrleansLocks:Lease:LeaseTimeout"] = "00:00:20", ["OrleansLocks:Lease:RenewalInterval"] = "00:00:05" },
            configureWait: o => o.PollInterval = TimeSpan.FromSeconds(11));

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<LockWaitOptions>>().Value);
        Assert.Contains("PollInterval must be at most half of the LeaseTimeout (was 00:00:11 with LeaseTimeout 00:00:20)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APollIntervalOfHalfTheLease_IsAccepted()
    {
        using var host = BuildSilo(
            locks => locks.UseInMemory(),
            new() { ["OrleansLocks:Lease:LeaseTimeout"] = "00:00:20", ["OrleansLocks:Lease:RenewalInterval"] = "00:00:05" },
            configureWait: o => o.PollInterval = TimeSpan.FromSeconds(10));

        Assert.Equal(TimeSpan.FromSeconds(10), host.Services.GetRequiredService<IOptions<LockWaitOptions>>().Value.PollInterval);
    }

    [Fact]
    public void TheConnectionString_IsRedactedWhereOrleansFormatsTheOptionsForItsLog()
    {
        using var host = BuildSilo(locks => locks.UsePostgres($"Host=127.0.0.1;Port=1;Username=u;Password={Secret}"));

        var lockStorage = host.Services.GetRequiredService<IOptionFormatter<LockStorageOptions>>().Format().ToList();
        Assert.Contains(lockStorage, line => line.Contains("ConnectionString", StringComparison.Ordinal) && line.Contains("REDACTED", StringComparison.Ordinal));
        Assert.Contains(lockStorage, line => line.Contains("SweepInterval", StringComparison.Ordinal));

        // Every options formatter the silo logs at start: ours, and Orleans' storage options built from ours.
        var formatters = host.Services.GetServices<IOptionFormatter>().ToList();
        Assert.Contains(formatters, f => f is IOptionFormatter<LockLeaseOptions>);
        Assert.Contains(formatters, f => f is IOptionFormatter<LockWaitOptions>);
        var everything = string.Join("\n", formatters.SelectMany(f => f.Format()));
        Assert.Contains("REDACTED", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, everything, StringComparison.Ordinal);
    }

    private static IHost BuildSilo(
        Func<OrleansLocksSiloBuilder, ISiloBuilder> chooseStorage,
        Dictionary<string, string?>? configuration = null,
        Action<LockWaitOptions>? configureWait = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.UseOrleans(silo => chooseStorage(silo
            .UseLocalhostClustering(siloPort: FreePort.Next(), gatewayPort: FreePort.Next())
            .AddOrleansLocks(configureWait: configureWait)));
        return builder.Build();
    }
}
