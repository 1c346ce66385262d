using Microsoft.Extensions.DependencyInjection;
using Medallion.Threading;
using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Client;
using OrleansLocks.DistributedLock;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// The adapter's semaphores and upgradeable locks over OrleansLocks.InMemory's provider, as users'
/// unit tests of DistributedLock code would use them, and their registration and option.
/// </summary>
public sealed class DistributedSemaphoreAndUpgradeOverInMemoryTests
{
    [Fact]
    public async Task OverTheInMemoryProvider_ASemaphoreLetsInItsCount_AndOneMorePerRelease()
    {
        var locks = new InMemoryLockProvider(new FakeTimeProvider());
        IDistributedSemaphoreProvider worker = new OrleansLocksDistributedLockProvider(locks);
        IDistributedSemaphoreProvider otherWorker = new OrleansLocksDistributedLockProvider(locks.ForOwner("worker-2"));

        var first = await worker.AcquireSemaphoreAsync("exports", 2);
        await using var second = await otherWorker.TryAcquireSemaphoreAsync("exports", 2);
        Assert.NotNull(second);
        Assert.Null(await otherWorker.TryAcquireSemaphoreAsync("exports", 2));
        Assert.NotEqual(first.GetFencingToken(), second.GetFencingToken());

        await first.DisposeAsync();
        await using var third = await otherWorker.TryAcquireSemaphoreAsync("exports", 2);
        Assert.NotNull(third);
    }

    [Fact]
    public async Task OverTheInMemoryProvider_AnUpgradeWaitsForTheReader_ThenGetsANewerFencingToken()
    {
        var locks = new InMemoryLockProvider(new FakeTimeProvider());
        IDistributedUpgradeableReaderWriterLockProvider worker = new OrleansLocksDistributedLockProvider(locks);
        IDistributedReaderWriterLockProvider otherWorker = new OrleansLocksDistributedLockProvider(locks.ForOwner("worker-2"));

        await using var handle = await worker.AcquireUpgradeableReadLockAsync("catalog");
        var reader = await otherWorker.AcquireReadLockAsync("catalog");
        var readToken = handle.GetFencingToken();

        Assert.False(await handle.TryUpgradeToWriteLockAsync());
        await reader.DisposeAsync();
        Assert.True(await handle.TryUpgradeToWriteLockAsync());
        Assert.True(handle.GetFencingToken() > readToken);
        Assert.Null(await otherWorker.TryAcquireReadLockAsync("catalog"));
    }

    [Fact]
    public void AddOrleansLocksDistributedLock_RegistersTheSemaphoreAndUpgradeableProvidersToo()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILockProvider>(new InMemoryLockProvider());
        services.AddOrleansLocksDistributedLock(o => o.SemaphoreName = "exports");
        using var provider = services.BuildServiceProvider();

        var adapter = provider.GetRequiredService<OrleansLocksDistributedLockProvider>();
        Assert.Same(adapter, provider.GetRequiredService<IDistributedSemaphoreProvider>());
        Assert.Same(adapter, provider.GetRequiredService<IDistributedUpgradeableReaderWriterLockProvider>());
        Assert.Equal(LockId.Create("exports", "nightly"), adapter.CreateSemaphore("nightly", 4).Id);
        Assert.Equal(LockId.Create("distributedlock-rw", "nightly"), adapter.CreateUpgradeableReaderWriterLock("nightly").Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    public void ASemaphoreNameOptionThatBreaksTheNameRule_IsRefused_NamingTheRuleAndTheOption(string semaphoreName)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddOrleansLocksDistributedLock(o => o.SemaphoreName = semaphoreName));
        Assert.Contains(LockId.NameRule, error.Message, StringComparison.Ordinal);
        Assert.Equal("SemaphoreName", error.ParamName);
    }
}
