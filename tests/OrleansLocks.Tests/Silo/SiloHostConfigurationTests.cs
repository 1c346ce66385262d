using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using OrleansLocks.Grains;
using OrleansLocks.Silo;
using OrleansLocks.Tests.Grains.Storage;

namespace OrleansLocks.Tests.Silo;

/// <summary>
/// What the real Silo host resolves from its services once built from its configuration: the end
/// result, not the helper that is meant to produce it.
/// </summary>
public sealed class SiloHostConfigurationTests
{
    [Fact]
    public void TheLockStorage_OfTheSiloHost_UsesTheTunedConnectionString()
    {
        using var host = SiloHost.Build(["--ConnectionStrings:OrleansLocks=Host=127.0.0.1;Port=1;Database=locks;Username=u"]);

        var storage = host.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get("OrleansLocks");
        var keys = StorageTuningTests.Keys(storage.ConnectionString ?? "");

        Assert.Equal("20", keys["Max Auto Prepare"]);
        Assert.Equal("2", keys["Auto Prepare Min Usages"]);
        Assert.Equal("True", keys["No Reset On Close"], ignoreCase: true);
        Assert.Equal("locks", keys["Database"]);
        Assert.Equal("Npgsql", storage.Invariant);
    }

    [Fact]
    public void TheLockStorage_OfTheSiloHost_KeepsTheValuesTheConnectionStringSets()
    {
        using var host = SiloHost.Build(["--ConnectionStrings:OrleansLocks=Host=127.0.0.1;Port=1;Database=locks;Max Auto Prepare=0;No Reset On Close=false"]);

        var storage = host.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get("OrleansLocks");
        var keys = StorageTuningTests.Keys(storage.ConnectionString ?? "");

        Assert.Equal("0", keys["Max Auto Prepare"]);
        Assert.Equal("False", keys["No Reset On Close"], ignoreCase: true);
    }

    [Fact]
    public void TheLockStorage_OfTheSiloHostWithoutAConnectionString_IsInMemory()
    {
        using var host = SiloHost.Build([]);

        Assert.IsType<MemoryGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("OrleansLocks"));
        Assert.Null(host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value.ConnectionString);
    }

    [Fact]
    public void TheLockOptions_OfTheSiloHost_ComeFromTheirConfigurationSections()
    {
        using var host = SiloHost.Build(
        [
            "--ConnectionStrings:OrleansLocks=Host=127.0.0.1;Port=1;Database=locks",
            "--OrleansLocks:Lease:LeaseTimeout=00:03:00",
            "--OrleansLocks:Wait:MaxWaiters=7",
            "--OrleansLocks:Storage:SweepInterval=00:02:00",
            "--OrleansLocks:Storage:StorageProviderName=locks-store",
        ]);

        Assert.Equal(TimeSpan.FromMinutes(3), host.Services.GetRequiredService<IOptions<LockLeaseOptions>>().Value.LeaseTimeout);
        Assert.Equal(7, host.Services.GetRequiredService<IOptions<LockWaitOptions>>().Value.MaxWaiters);
        var storage = host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(2), storage.SweepInterval);
        Assert.Equal("locks-store", storage.StorageProviderName);
        Assert.Equal("Host=127.0.0.1;Port=1;Database=locks", storage.ConnectionString);
        Assert.IsType<AdoNetGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("locks-store"));
    }

    [Fact]
    public void TheLockRows_OfTheSiloHost_AreWrittenByGroupCommitUnlessConfigurationChoosesTheProvider()
    {
        const string database = "--ConnectionStrings:OrleansLocks=Host=127.0.0.1;Port=1;Database=locks";
        using var byDefault = SiloHost.Build([database]);
        using var chosen = SiloHost.Build([database, "--OrleansLocks:Storage:Writer=AdoNetProvider", "--OrleansLocks:Storage:MaxBatchSize=32"]);

        Assert.NotNull(byDefault.Services.GetRequiredService<OrleansLocks.Grains.Locking.LockGrainSettings>().GroupCommit);
        Assert.Equal(256, byDefault.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value.MaxBatchSize);
        Assert.Null(chosen.Services.GetRequiredService<OrleansLocks.Grains.Locking.LockGrainSettings>().GroupCommit);
        Assert.Equal(32, chosen.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value.MaxBatchSize);
    }

    [Fact]
    public void ABatchBoundOutsideItsRange_IsRefusedNamingTheRule()
    {
        using var host = SiloHost.Build(["--OrleansLocks:Storage:MaxBatchSize=0"]);

        // Checked when the silo starts (ValidateOnStart), and whenever the options are first read.
        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<LockStorageOptions>>().Value);
        Assert.Contains("MaxBatchSize must be from 1 to 4096", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheHttpEndpoints_OfTheSiloHost_ListenOnTheDocumentedDevPort_UnlessUrlsOrPortsAreConfigured()
    {
        using var byDefault = SiloHost.Build([]);
        using var urls = SiloHost.Build(["--urls=http://127.0.0.1:6123"]);
        using var ports = SiloHost.Build(["--http_ports=8080"]);

        Assert.Equal("http://localhost:5080", byDefault.Services.GetRequiredService<IConfiguration>()["urls"]);
        Assert.Equal("http://127.0.0.1:6123", urls.Services.GetRequiredService<IConfiguration>()["urls"]);
        Assert.True(string.IsNullOrEmpty(ports.Services.GetRequiredService<IConfiguration>()["urls"]));
    }

    [Fact]
    public void TheHealthChecks_OfTheSiloHost_AreTheLockChecks_TaggedForLivenessAndReadiness()
    {
        using var host = SiloHost.Build([]);

        var registrations = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations
            .ToDictionary(r => r.Name, r => (r.FailureStatus, Tags: string.Join(",", r.Tags.Order(StringComparer.Ordinal))));

        Assert.Equal((HealthStatus.Unhealthy, "live,ready"), registrations["orleanslocks-silo"]);
        Assert.Equal((HealthStatus.Unhealthy, "ready"), registrations["orleanslocks-storage"]);
        Assert.Equal((HealthStatus.Unhealthy, "ready"), registrations["orleanslocks-schema"]);
        Assert.Equal((HealthStatus.Degraded, "ready"), registrations["orleanslocks-sweep"]);
    }

    [Fact]
    public void AHealthTimeoutOutsideItsRange_IsRefusedNamingTheRule()
    {
        using var host = SiloHost.Build(["--OrleansLocks:Health:Timeout=00:05:00"]);

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<LockHealthCheckOptions>>().Value);
        Assert.Contains("Timeout must be from 100 ms to 1 minute", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABlankStorageProviderName_IsRefusedNamingTheRule()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => SiloHost.Build(["--OrleansLocks:Storage:StorageProviderName= "]));

        Assert.Contains("StorageProviderName must be a non-empty name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AConnectionStringUnderTheStorageSection_IsRefusedNamingWhereItGoes_WithoutEchoingIt()
    {
        var ex = Assert.Throws<SiloConfigurationException>(() => SiloHost.Build(["--OrleansLocks:Storage:ConnectionString=Host=h;Password=secret"]));

        Assert.Contains("give the PostgreSQL connection string as ConnectionStrings:OrleansLocks", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
    }
}
