using System.Runtime.CompilerServices;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// Read/write locks: scenarios RW1 to RW9 of docs/synapse-scenarios.md (Synapse's
/// test_lock.py read/write cases) and the rules Synapse lacked: writer preference, a share per holder
/// that expires on its own, waiting readers and writers. Two silos, a fake clock.
/// </summary>
public abstract class ReadWriteLockScenarioTests(LockCluster cluster) : ClusterScenarioTests(cluster)
{
    [Fact]
    public async Task RW1_WriteContention_AtMostOneWriterAtATime()
    {
        var max = await ContendAsync(NewKey(), key => Locks.TryAcquireWriteAsync("name", key));
        Assert.Equal(1, max);
    }

    [Fact]
    public async Task RW2_ManyReaders_AllHoldAtOnce()
    {
        var max = await ContendAsync(NewKey(), key => Locks.TryAcquireReadAsync("name", key));
        Assert.Equal(3, max);
    }

    [Fact]
    public async Task RW3_WriteHeld_RefusesWritersAndReaders()
    {
        var key = NewKey();
        var w = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(w);

        Assert.Null(await Locks.TryAcquireWriteAsync("name", key));
        Assert.Null(await Locks.TryAcquireReadAsync("name", key));
        Assert.True(await w.IsStillValidAsync());
        await w.ReleaseAsync();

        await using var again = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task RW4_ReadHeld_RefusesWritersUntilTheLastReaderLeaves()
    {
        var key = NewKey();
        var a = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(a);
        Assert.Null(await Locks.TryAcquireWriteAsync("name", key));

        var b = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(b);
        Assert.True(await a.IsStillValidAsync());
        await a.ReleaseAsync();

        Assert.Null(await Locks.TryAcquireWriteAsync("name", key)); // B still reads
        await b.ReleaseAsync();

        await using var w = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(w);
    }

    [Fact]
    public async Task RW5_Maintain_RenewalKeepsTheWriteLock()
    {
        var key = NewKey();
        await using var w = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(w);
        for (var step = 0; step < 10; step++)
        {
            var before = w.ExpiresAt;
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => w.ExpiresAt > before, "the writer renewed");
        }

        Assert.Null(await Locks.TryAcquireWriteAsync("name", key));
    }

    [Fact]
    public async Task RW6_Timeout_AStuckWriterLosesTheLock()
    {
        var key = NewKey();
        var old = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(old);

        // The client stands still (no renewal) while the silos' clock moves on.
        Cluster.SiloClock.Advance(2 * T);

        await using var again = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(again);
        Assert.False(await old.IsStillValidAsync());
        Assert.True(again.FencingToken > old.FencingToken);
        Cluster.ClientClock.Advance(2 * T);
        await old.DisposeAsync();
    }

    [Fact]
    public async Task RW7_Drop_ADroppedWriterExpires()
    {
        var key = NewKey();
        await AcquireWriteAndDropAsync(key);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        for (var step = 0; step < 8; step++)
        {
            Cluster.Advance(R);
        }

        await using var again = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task RW8_Shutdown_StoppingTheClientHostReleasesItsWriteLocks()
    {
        var (key1, key2) = (NewKey(), NewKey());
        var held1 = await Locks.TryAcquireWriteAsync("name", key1);
        var held2 = await Locks.TryAcquireWriteAsync("name", key2);
        Assert.NotNull(held1);
        Assert.NotNull(held2);

        // The handles stay referenced until the host stops: a handle dropped and collected before then is
        // a different case (its lock is left to expire, L5), and a garbage collection run by a test in
        // parallel once made this test fail that way.
        await Cluster.RestartClientAsync();
        GC.KeepAlive(held1);
        GC.KeepAlive(held2);

        await using var again1 = await Locks.TryAcquireWriteAsync("name", key1);
        await using var again2 = await Locks.TryAcquireWriteAsync("name", key2);
        Assert.NotNull(again1);
        Assert.NotNull(again2);
    }

    [Fact]
    public async Task RW9_Multi_AllOrNothingWriteLocks()
    {
        var (key1, key2, key3) = (NewKey(), NewKey(), NewKey());
        var m = await Locks.TryAcquireAllAsync([LockRequest.Write("name1", key1), LockRequest.Write("name2", key2)]);
        Assert.NotNull(m);

        Assert.Null(await Locks.TryAcquireWriteAsync("name1", key1));
        Assert.Null(await Locks.TryAcquireReadAsync("name2", key2));
        Assert.Null(await Locks.TryAcquireAllAsync([LockRequest.Write("name1", key1), LockRequest.Write("name3", key3)]));

        // The refused multi-lock left nothing held: name3 is free.
        await using (var w3 = await Locks.TryAcquireWriteAsync("name3", key3))
        {
            Assert.NotNull(w3);
        }

        // name1 comes first in the canonical order, so the refusal above took nothing at all; a free lock
        // that sorts before the taken one (name0) is taken first, and must be given back.
        Assert.Null(await Locks.TryAcquireAllAsync([LockRequest.Write("name2", key2), LockRequest.Write("name0", key3)]));
        await using (var w0 = await Locks.TryAcquireWriteAsync("name0", key3))
        {
            Assert.NotNull(w0);
        }

        await m.ReleaseAsync();
        await using var w1 = await Locks.TryAcquireWriteAsync("name1", key1);
        Assert.NotNull(w1);
    }

    [Fact]
    public async Task AWaitingWriter_KeepsNewReadersOut_SoWritersCannotStarve()
    {
        var key = NewKey();
        var reader = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(reader);
        var writer = Locks.AcquireWriteAsync("name", key).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).WaitingWriters == 1, "the writer waits");

        // New readers are refused (try) or wait behind the writer (waiting form).
        Assert.Null(await Locks.TryAcquireReadAsync("name", key));
        var lateReader = Locks.AcquireReadAsync("name", key).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).WaitingReaders == 1, "the late reader waits");

        await reader.ReleaseAsync();
        var w = await writer.WaitAsync(Arrival);
        Assert.False(lateReader.IsCompleted);

        await w.ReleaseAsync();
        await using var r = await lateReader.WaitAsync(Arrival);
        Assert.True(r.FencingToken > w.FencingToken);
    }

    [Fact]
    public async Task WaitingReaders_AreAllLetInTogetherWhenTheWriterLeaves()
    {
        var key = NewKey();
        var writer = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(writer);
        var readers = Enumerable.Range(0, 3).Select(_ => Locks.AcquireReadAsync("name", key).AsTask()).ToList();
        await Eventually.TrueAsync(async () => (await Info(key)).WaitingReaders == 3, "three readers wait");

        await writer.ReleaseAsync();

        var held = await Task.WhenAll(readers).WaitAsync(Arrival);
        Assert.Equal(3, (await Info(key)).Readers.Count);
        Assert.Equal(3, held.Select(h => h.FencingToken).Distinct().Count());
        Assert.All(held, h => Assert.True(h.FencingToken > writer.FencingToken));
        foreach (var h in held)
        {
            await h.ReleaseAsync();
        }

        Assert.True((await Info(key)).IsFree);
    }

    [Fact]
    public async Task EachReader_HasItsOwnLease_AndOneReadersExpiryFreesOnlyItsShare()
    {
        var key = NewKey();
        var grain = Cluster.Grains.GetGrain<IReadWriteLockGrain>(LockId.Create("name", key).ToGrainKey());
        var early = await grain.TryAcquireRead("early");
        Cluster.SiloClock.Advance(TimeSpan.FromMinutes(1));
        var late = await grain.TryAcquireRead("late");
        Assert.NotNull(early);
        Assert.NotNull(late);
        Assert.NotEqual(early.Token, late.Token);
        Assert.True(late.FencingToken > early.FencingToken);

        // The early reader's lease runs out; the late reader's does not.
        Cluster.SiloClock.Advance(TimeSpan.FromSeconds(61));
        await Eventually.TrueAsync(async () => (await Info(key)).Readers.Count == 1, "the early reader's share expired");
        Assert.False(await grain.IsStillValid(early.Token));
        Assert.True(await grain.IsStillValid(late.Token));
        Assert.Null(await grain.Renew(early.Token));
        Assert.NotNull(await grain.Renew(late.Token));
        Assert.Null(await grain.TryAcquireWrite("writer"));
        Assert.True(await grain.Release(late.Token));
        Assert.NotNull(await grain.TryAcquireWrite("writer"));
    }

    [Fact]
    public async Task AReadWriteLock_AndAPlainLockOfTheSameNameAndKey_AreIndependent()
    {
        var key = NewKey();
        await using var plain = await Locks.TryAcquireAsync("name", key);
        await using var write = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(plain);
        Assert.NotNull(write);
        Assert.Equal(LockKind.Plain, plain.Kind);
        Assert.Equal(LockKind.Write, write.Kind);
    }

    [Fact]
    public async Task AWriterExpiry_WakesTheWaitingReaders()
    {
        var key = NewKey();
        var grain = Cluster.Grains.GetGrain<IReadWriteLockGrain>(LockId.Create("name", key).ToGrainKey());
        var stuck = await grain.TryAcquireWrite("stuck-writer");
        Assert.NotNull(stuck);
        var reader = Locks.AcquireReadAsync("name", key).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).WaitingReaders == 1, "the reader waits");

        var moved = TimeSpan.Zero;
        while (!reader.IsCompleted)
        {
            Assert.True(moved <= T + R, $"the reader still waited after {moved}");
            Cluster.Advance(R);
            moved += R;

            // Once the writer's lease is over, the grant is the lock's own work: give it real time
            // rather than moving the clock on past it (on a loaded machine 300 ms may not be enough).
            await Task.WhenAny(reader, Task.Delay(moved >= T ? Eventually.DefaultTimeout : TimeSpan.FromMilliseconds(300)));
        }

        await using var held = await reader;
        Assert.True(held.FencingToken > stuck.FencingToken);
    }

    private Task<ReadWriteLockInfo> Info(string key) =>
        Cluster.Grains.GetGrain<IReadWriteLockGrain>(LockId.Create("name", key).ToGrainKey()).GetInfo();

    /// <summary>Scenario L1's shape: three concurrent tries, holders wait at a gate; returns the most holding at once.</summary>
    private static async Task<int> ContendAsync(string key, Func<string, ValueTask<LockHandle?>> tryAcquire)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inLock = 0;
        var max = 0;
        var answered = 0;

        async Task OneAsync()
        {
            await using var handle = await tryAcquire(key);
            Interlocked.Increment(ref answered);
            if (handle is null)
            {
                return;
            }

            var now = Interlocked.Increment(ref inLock);
            int seen;
            while ((seen = Volatile.Read(ref max)) < now && Interlocked.CompareExchange(ref max, now, seen) != seen)
            {
            }

            await gate.Task;
            Interlocked.Decrement(ref inLock);
        }

        var tasks = Enumerable.Range(0, 3).Select(_ => Task.Run(OneAsync)).ToArray();
        await Eventually.TrueAsync(() => Volatile.Read(ref answered) == 3, "all three tries were answered");
        gate.SetResult();
        await Task.WhenAll(tasks);
        return max;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task AcquireWriteAndDropAsync(string key)
    {
        var handle = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(handle);
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class ReadWriteLockScenarioTests_Memory(MemoryClusterFixture fixture) : ReadWriteLockScenarioTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class ReadWriteLockScenarioTests_Postgres(PostgresClusterFixture fixture) : ReadWriteLockScenarioTests(fixture.Cluster);
