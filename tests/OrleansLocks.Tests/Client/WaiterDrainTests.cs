using System.Diagnostics;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansLocks.Tests.Client;

/// <summary>Runs alone (no other test shares the process's CPU), so the CPU budget below measures this scenario only.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WaiterDrainCollection
{
    public const string Name = "waiter drain (alone)";
}

/// <summary>
/// Scenario H3 of docs/synapse-scenarios.md: 500 waiters on one lock, each taking, holding and
/// releasing it in turn, in FIFO order, on a two-silo cluster with PostgreSQL storage. Synapse's budget
/// for its version is 5 s of CPU. The budget is checked on the drain, from the first release to the
/// last grant, where the lock does its work: the whole process's CPU then (client, both silos, their
/// PostgreSQL driver). Queueing is one waiter at a time with polling, so the line's order is known;
/// that is this test's own overhead, and it also soaks up whatever earlier tests left running in the
/// process, so it is printed but not budgeted. A guard against pathological regressions, not a
/// benchmark (the benchmark program measures the drain side by side).
/// </summary>
[Collection(WaiterDrainCollection.Name)]
public sealed class WaiterDrainTests(ITestOutputHelper output)
{
    private const int Waiters = 500;

    [Fact]
    public async Task H3_FiveHundredWaiters_EachGetTheLockOnceInFifoOrder_WithinSynapsesCpuBudget()
    {
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres);
        var locks = cluster.Locks;
        var grain = cluster.Grains.GetGrain<ILockGrain>(LockId.Create("test_lock", "").ToGrainKey());
        var first = await locks.AcquireAsync("test_lock", "");

        var process = Process.GetCurrentProcess();
        var clock = Stopwatch.StartNew();

        var order = new List<int>(Waiters);
        var inLock = 0;
        var waiters = new Task[Waiters];
        for (var i = 0; i < Waiters; i++)
        {
            var me = i;
            waiters[i] = Task.Run(async () =>
            {
                var handle = await locks.AcquireAsync("test_lock", "");
                Assert.Equal(1, Interlocked.Increment(ref inLock));
                lock (order)
                {
                    order.Add(me);
                }

                Interlocked.Decrement(ref inLock);
                await handle.ReleaseAsync();
            });

            // Join the line one at a time, so the line's order is known.
            await Eventually.TrueAsync(async () => (await grain.GetInfo())?.Waiting == me + 1, $"waiter {me} is in line");
        }

        var queued = clock.Elapsed;
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        await first.ReleaseAsync();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromMinutes(2));

        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        output.WriteLine($"500 waiters: queued in {queued.TotalSeconds:F2} s, drained in {(clock.Elapsed - queued).TotalSeconds:F2} s with {cpu.TotalSeconds:F2} s of process CPU");

        Assert.Equal(Enumerable.Range(0, Waiters), order);
        Assert.Null(await grain.GetInfo());
        Assert.True(cpu < TimeSpan.FromSeconds(5), $"500 waiters drained with {cpu.TotalSeconds:F2} s of CPU (budget 5 s)");
    }
}
