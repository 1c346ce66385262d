using Medallion.Threading;
using OrleansLocks.DistributedLock;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// DistributedLock's own multi-lock helpers (DistributedLockProviderExtensions,
/// DistributedReaderWriterLockProviderExtensions) over the adapter: all or nothing, in both forms.
/// </summary>
[Collection(DistributedLockClusterCollection.Name)]
public sealed class DistributedLockMultiLockTests(DistributedLockClusterFixture fixture) : DistributedLockClusterTests(fixture)
{
    [Fact]
    public async Task AcquireAllLocksAsync_HoldsEveryName_UntilTheCompositeIsDisposed()
    {
        string[] names = [NewName(), NewName(), NewName()];
        var all = await Provider.AcquireAllLocksAsync(names);
        foreach (var name in names)
        {
            Assert.Null(await OtherProcess.TryAcquireLockAsync(name));
        }

        Assert.True(all.HandleLostToken.CanBeCanceled);
        await all.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => all.HandleLostToken);

        foreach (var name in names)
        {
            await using var free = await OtherProcess.TryAcquireLockAsync(name);
            Assert.NotNull(free);
        }
    }

    [Fact]
    public async Task TryAcquireAllLocks_WhenOneNameIsTaken_AnswersNull_AndHoldsNone_InBothForms()
    {
        string[] names = [NewName(), NewName()];
        await using (var taken = await OtherProcess.TryAcquireLockAsync(names[1]))
        {
            Assert.NotNull(taken);
            Assert.Null(await Provider.TryAcquireAllLocksAsync(names));
            Assert.Null(Provider.TryAcquireAllLocks(names));
            await Assert.ThrowsAsync<TimeoutException>(async () => await Provider.AcquireAllLocksAsync(names, TimeSpan.Zero));

            // The first name, taken on the way, was given back.
            await using var first = await OtherProcess.TryAcquireLockAsync(names[0]);
            Assert.NotNull(first);
        }

        using var both = Provider.AcquireAllLocks(names, TimeSpan.FromSeconds(10));
        Assert.Null(await OtherProcess.TryAcquireLockAsync(names[0]));
    }

    [Fact]
    public async Task TheReaderWriterHelpers_TakeAllReadOrAllWriteHolds()
    {
        string[] names = [NewName(), NewName()];
        await using (var reads = await Provider.AcquireAllReadLocksAsync(names))
        await using (var moreReads = await OtherProcess.TryAcquireAllReadLocksAsync(names))
        {
            Assert.NotNull(moreReads);
            Assert.Null(await OtherProcess.TryAcquireAllWriteLocksAsync(names));
        }

        await using var writes = await OtherProcess.AcquireAllWriteLocksAsync(names, TimeSpan.FromSeconds(10));
        Assert.Null(await Provider.TryAcquireAllReadLocksAsync(names));
    }

    [Fact]
    public async Task GetFencingToken_OnACompositeHandle_IsRefusedWithAClearMessage()
    {
        await using var all = await Provider.AcquireAllLocksAsync([NewName(), NewName()]);
        var error = Assert.Throws<ArgumentException>(() => all.GetFencingToken());
        Assert.Contains("OrleansLocksDistributedLockProvider", error.Message, StringComparison.Ordinal);
    }
}
