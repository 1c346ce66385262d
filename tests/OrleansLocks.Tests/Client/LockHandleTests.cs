using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>The handle's promises beyond Synapse's scenarios.</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class LockHandleTests(MemoryClusterFixture fixture)
{
    private static readonly TimeSpan R = TimeSpan.FromSeconds(30);
    private readonly LockCluster _cluster = fixture.Cluster;

    private static string NewKey() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Handle_DescribesItsGrant()
    {
        var key = NewKey();
        var now = _cluster.SiloClock.GetUtcNow();
        await using var handle = await _cluster.Locks.TryAcquireAsync("handle", key);

        Assert.NotNull(handle);
        Assert.Equal(LockId.Create("handle", key), handle.Id);
        Assert.Equal(now + TimeSpan.FromMinutes(2), handle.ExpiresAt);
        var info = await _cluster.Grains.GetGrain<ILockGrain>(handle.Id.ToGrainKey()).GetInfo();
        Assert.Equal(info!.FencingToken, handle.FencingToken);
        Assert.Equal(info.Owner, handle.Owner);
        Assert.Equal($"{Environment.MachineName}/{Environment.ProcessId}", handle.Owner);
    }

    [Fact]
    public async Task ReleaseAndDispose_AreIdempotent_AndDoNotSignalLoss()
    {
        var key = NewKey();
        var handle = await _cluster.Locks.TryAcquireAsync("handle", key);
        Assert.NotNull(handle);

        await handle.ReleaseAsync();
        await handle.ReleaseAsync();
        await handle.DisposeAsync();

        Assert.False(handle.HandleLostToken.IsCancellationRequested);
        Assert.False(await handle.IsStillValidAsync());
        await using var next = await _cluster.Locks.TryAcquireAsync("handle", key);
        Assert.NotNull(next);
        Assert.True(next.FencingToken > handle.FencingToken);
    }

    [Fact]
    public async Task ReleasedHandle_StopsRenewing()
    {
        var handle = await _cluster.Locks.TryAcquireAsync("handle", NewKey());
        await handle!.ReleaseAsync();
        var grain = _cluster.Grains.GetGrain<ILockGrain>(handle.Id.ToGrainKey());

        // A renewal would be sent during Advance; the grain answers in order, so once this GetInfo
        // is answered, any renewal sent before it has reached the grain.
        _cluster.Advance(R);
        _cluster.Advance(R);
        Assert.Null(await grain.GetInfo());

        Assert.Equal(0, _cluster.GrainCalls.Count(handle.Id, nameof(ILockGrain.Renew)));
        Assert.False(handle.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task AGrantThatArrivesPastItsLocalDeadline_IsHandedOverAlreadyLost_RatherThanFailingTheAcquire()
    {
        var key = NewKey();
        var grain = _cluster.Grains.GetGrain<ILockGrain>(LockId.Create("handle", key).ToGrainKey());
        var other = await grain.TryAcquire("other");
        var waiting = _cluster.Locks.AcquireAsync("handle", key).AsTask();
        await Eventually.TrueAsync(async () => (await grain.GetInfo())?.Waiting == 1, "one waiting in line");

        // The waiting process's clock runs a whole lease ahead while its wait call is open (a long
        // pause): the grant that then arrives must be presumed over on arrival.
        _cluster.ClientClock.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await grain.Release(other!.Token));

        await using var handle = await waiting;
        Assert.True(handle.HandleLostToken.IsCancellationRequested);
        Assert.Equal(LockKind.Plain, handle.Kind);
    }

    [Fact]
    public async Task HandleLostToken_IsCancelledWhenARenewalAnswersLost()
    {
        var handle = await _cluster.Locks.TryAcquireAsync("handle", NewKey());
        var grain = _cluster.Grains.GetGrain<ILockGrain>(handle!.Id.ToGrainKey());

        // The lease runs out on the silos while the client is stalled; someone else takes the lock.
        _cluster.SiloClock.Advance(TimeSpan.FromMinutes(2));
        Assert.NotNull(await grain.TryAcquire("thief"));

        // One renewal interval on the client: far from its own deadline, so only the renewal's
        // answer can tell it the lease is gone.
        _cluster.ClientClock.Advance(R);
        await Eventually.TrueAsync(() => handle.HandleLostToken.IsCancellationRequested, "HandleLostToken was cancelled");
        _cluster.ClientClock.Advance(TimeSpan.FromMinutes(2) - R);
        Assert.False(await handle.IsStillValidAsync());
        await handle.DisposeAsync();
        Assert.Equal("thief", (await grain.GetInfo())!.Owner);
        Assert.Contains(
            _cluster.ClientLogs.GetSnapshot(),
            r => r.Level == LogLevel.Warning && r.Id.Id == 2003 && r.Message.Contains(handle.Id.ToString(), StringComparison.Ordinal)
                && r.Message.Contains("no longer held", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tokens_AreNeverLogged()
    {
        var key = NewKey();
        var grain = _cluster.Grains.GetGrain<ILockGrain>(LockId.Create("handle", key).ToGrainKey());
        var lease = await grain.TryAcquire("raw");
        await using (var refused = await _cluster.Locks.TryAcquireAsync("handle", key))
        {
            Assert.Null(refused);
        }

        await grain.Release(lease!.Token);
        await using (var handle = await _cluster.Locks.TryAcquireAsync("handle", key))
        {
            _cluster.Advance(R);
            await Eventually.TrueAsync(() => handle!.ExpiresAt > lease.ExpiresAt, "the handle renewed");
        }

        var logged = _cluster.ClientLogs.GetSnapshot();
        Assert.Contains(logged, r => r.Id.Id == 2001 && r.Message.Contains(key, StringComparison.Ordinal)); // acquired, at Debug
        Assert.DoesNotContain(logged, r => r.Message.Contains(lease.Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CoHostedCode_InASilo_AcquiresThroughTheSameProvider()
    {
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Memory, silos: 1, coHostedProvider: true);
        var locks = cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<ILockProvider>();
        var key = NewKey();

        await using var handle = await locks.TryAcquireAsync("cohost", key);

        Assert.NotNull(handle);
        Assert.Equal("co-hosted", handle.Owner);
        Assert.Null(await cluster.Locks.TryAcquireAsync("cohost", key));
    }
}

/// <summary>The handle when the lock's storage fails under it.</summary>
public sealed class LockHandleStorageFailureTests
{
    [Fact]
    public async Task HandleLostToken_IsCancelledWhenNoRenewalSucceedsBeforeTheDeadline()
    {
        await using var server = await PostgresServer.StartAsync(durable: false, own: true);
        var database = await server.CreateDatabaseAsync("renewfail");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var handle = await cluster.Locks.TryAcquireAsync("renewfail", "key");
        Assert.NotNull(handle);

        await server.StopAsync();
        for (var step = 0; step < 3; step++)
        {
            cluster.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.False(handle.HandleLostToken.IsCancellationRequested); // 90 s: renewals failed, but the lease may still hold
        cluster.Advance(TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => handle.HandleLostToken.IsCancellationRequested, "HandleLostToken was cancelled at the deadline");

        await server.RestartAsync();
        Assert.False(await handle.IsStillValidAsync());
        await handle.DisposeAsync();
    }
}
