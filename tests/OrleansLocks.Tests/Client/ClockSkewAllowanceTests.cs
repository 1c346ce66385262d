using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansLocks.Client;
using OrleansLocks.Testing;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// <see cref="LockClientOptions.ClockSkewAllowance"/>: a handle gives its lease up that much before
/// <c>sentAt + lease</c>, so a silo whose clock is ahead by less than the allowance never grants the lock
/// while the old holder still believes it holds. The silos and the client each run on a fake clock;
/// "real time" is what the test advances both by, and the silo's clock is put ahead by the skew.
/// </summary>
public sealed class ClockSkewAllowanceTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Allowance = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Renewal = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AHandleWhoseRenewalsFail_IsLostAtSentAtPlusLeaseMinusTheAllowance_AndSaysSoWithoutAskingTheSilo()
    {
        await using var server = await PostgresServer.StartAsync(durable: false, own: true);
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: await server.CreateDatabaseAsync("skewlost"));
        var handle = await cluster.Locks.TryAcquireAsync("skew", "lost");
        Assert.NotNull(handle);

        await server.StopAsync();
        await AdvanceThroughFailingRenewalsAsync(cluster, Lease - Allowance - TimeSpan.FromMilliseconds(1));
        Assert.False(handle.HandleLostToken.IsCancellationRequested);

        cluster.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => handle.HandleLostToken.IsCancellationRequested, "HandleLostToken was cancelled at sentAt + lease - allowance");

        // The silo still has the lease in force (its clock is 1 s short of the expiry), and says so to
        // others; the handle, past its own deadline, answers false without asking it.
        await server.RestartAsync();
        Assert.Null(await cluster.Locks.TryAcquireAsync("skew", "lost"));
        Assert.False(await handle.IsStillValidAsync());
        await handle.DisposeAsync();
    }

    [Theory]
    [InlineData(900, true)]
    [InlineData(1500, false)]
    public async Task ASiloClockAheadByLessThanTheAllowance_GrantsOnlyAfterTheOldHolderGaveUp_AndBeyondItTwoBelieveAtOnce(int skewMs, bool withinAllowance)
    {
        await using var server = await PostgresServer.StartAsync(durable: false, own: true);
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: await server.CreateDatabaseAsync("skewgrant"));
        var old = await cluster.Locks.TryAcquireAsync("skew", "grant");
        Assert.NotNull(old);

        // The old holder's renewals fail (storage down), then the silo's clock jumps ahead by the skew.
        await server.StopAsync();
        var skew = TimeSpan.FromMilliseconds(skewMs);
        cluster.SiloClock.Advance(skew);

        // Real time reaches the moment the skewed silo sees the lease end.
        await AdvanceThroughFailingRenewalsAsync(cluster, Lease - skew);
        await server.RestartAsync();
        var next = await cluster.Locks.TryAcquireAsync("skew", "grant");

        Assert.NotNull(next);
        Assert.True(next.FencingToken > old.FencingToken);

        // Within the allowance the old holder gave up before the new grant; beyond it, it still believes.
        Assert.Equal(withinAllowance, old.HandleLostToken.IsCancellationRequested);
        await next.DisposeAsync();
        await old.DisposeAsync();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(40_001)]
    public void AnAllowanceBelowZeroOrOverAThirdOfTheLease_IsRefusedAtStartNamingTheRule(int allowanceMs)
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddOrleansLocksClient(o => o.ClockSkewAllowance = TimeSpan.FromMilliseconds(allowanceMs), o => o.LeaseTimeout = Lease)
            .BuildServiceProvider();

        var thrown = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LockClientOptions>>().Value);

        Assert.Contains("ClockSkewAllowance must be zero or more and at most a third of the LeaseTimeout", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDefaultAllowance_IsOneSecond_AndFitsTheDefaultLease()
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddOrleansLocksClient()
            .BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(1), services.GetRequiredService<IOptions<LockClientOptions>>().Value.ClockSkewAllowance);
    }

    /// <summary>
    /// Advances both clocks by <paramref name="total"/> in renewal-interval steps, waiting after each
    /// renewal tick until its failure is logged, so that no renewal is still being retried afterwards.
    /// </summary>
    private static async Task AdvanceThroughFailingRenewalsAsync(LockCluster cluster, TimeSpan total)
    {
        var advanced = TimeSpan.Zero;
        var ticks = 0;
        while (total - advanced >= Renewal)
        {
            cluster.Advance(Renewal);
            advanced += Renewal;
            ticks++;
            await Eventually.TrueAsync(
                () => cluster.ClientLogs.GetSnapshot().Count(r => r.Id.Id == 2004) >= ticks,
                $"renewal {ticks} failed and was logged");
        }

        cluster.Advance(total - advanced);
    }
}
