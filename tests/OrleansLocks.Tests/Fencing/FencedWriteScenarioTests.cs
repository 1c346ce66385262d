using OrleansLocks.Client;
using OrleansLocks.Fencing.Postgres;
using OrleansLocks.Tests.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Fencing;

/// <summary>
/// Kleppmann's scenario end to end, with real handles from a cluster whose locks live in PostgreSQL and
/// a real PostgreSQL database as the guarded resource: a holder that pauses past its lease comes back
/// after a newer holder has written, and the database refuses its write.
/// </summary>
[Collection(PostgresClusterCollection.Name)]
public sealed class FencedWriteScenarioTests(PostgresClusterFixture fixture) : ClusterScenarioTests(fixture.Cluster)
{
    [Fact]
    public async Task AHolderThatPausedPastItsLease_HasItsWriteRefused_AndTheNewerHoldersWriteStays()
    {
        var key = NewKey();
        await using var database = await FenceDatabase.CreateAsync("kleppmann");

        var a = await Locks.TryAcquireAsync("storage", key);
        Assert.NotNull(a);

        // A pauses: its process's clock (and so its renewal timer) stands still while the silos' moves on.
        for (var moved = TimeSpan.Zero; moved < 2 * T; moved += R)
        {
            Cluster.SiloClock.Advance(R);
        }

        await using var b = await Cluster.SiloLocks(0).TryAcquireAsync("storage", key);
        Assert.NotNull(b);
        Assert.True(b.FencingToken > a.FencingToken);
        await database.WriteAsync("file", "written by B", (c, t) => b.FenceAsync(c, t));

        // A wakes, still believing it holds the lock, and writes.
        var refused = await Assert.ThrowsAsync<StaleFencingTokenException>(() => database.WriteAsync("file", "written by A", (c, t) => a.FenceAsync(c, t)));

        Assert.Equal(a.Id, refused.LockId);
        Assert.Equal(a.FencingToken, refused.FencingToken);
        Assert.Equal(b.FencingToken, refused.NewestFencingToken);
        Assert.Equal("written by B", await database.ValueAsync("file"));
        Assert.Equal(["written by B"], await database.LoggedAsync("file"));

        // Bring the client's clock level with the silos' again, for the tests that share this cluster.
        Cluster.ClientClock.Advance(2 * T);
        await Eventually.TrueAsync(() => a.HandleLostToken.IsCancellationRequested, "A's HandleLostToken was cancelled");
        await a.DisposeAsync();
        Assert.True(await b.IsStillValidAsync());
    }

    [Fact]
    public async Task AMultiLockHandle_FencesEveryPart_SoAnEarlierHoldersWriteIsRefused()
    {
        var key = NewKey();
        await using var database = await FenceDatabase.CreateAsync("multi_fence");
        LockRequest[] both = [LockRequest.Plain("left", key), LockRequest.Write("right", key)];

        var first = await Locks.TryAcquireAllAsync(both);
        Assert.NotNull(first);
        await database.WriteAsync("pair", "first", (c, t) => first.FenceAsync(c, t));
        await first.ReleaseAsync();

        await using var second = await Locks.TryAcquireAllAsync(both);
        Assert.NotNull(second);
        await database.WriteAsync("pair", "second", (c, t) => second.FenceAsync(c, t));

        // The plain part comes first in the canonical order, so it is the one that refuses.
        var refused = await Assert.ThrowsAsync<StaleFencingTokenException>(() => database.WriteAsync("pair", "late", (c, t) => first.FenceAsync(c, t)));
        Assert.Equal(LockId.Create("left", key), refused.LockId);
        Assert.Equal("second", await database.ValueAsync("pair"));
        Assert.Equal(["first", "second"], await database.LoggedAsync("pair"));
    }
}
