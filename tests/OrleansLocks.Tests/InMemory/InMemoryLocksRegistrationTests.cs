using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Client;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.InMemory;

/// <summary><c>services.AddInMemoryOrleansLocks()</c> puts the in-memory provider where code under test looks for locks.</summary>
public sealed class InMemoryLocksRegistrationTests
{
    [Fact]
    public async Task AddInMemoryOrleansLocks_ReplacesTheRealClient_AndRunsOnTheRegisteredClock()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddOrleansLocksClient();
        services.AddInMemoryOrleansLocks(o => o.Owner = "test-worker");
        await using var provider = services.BuildServiceProvider();

        var locks = provider.GetRequiredService<ILockProvider>();
        var inMemory = Assert.IsType<InMemoryLockProvider>(locks);
        Assert.Same(inMemory, provider.GetRequiredService<InMemoryLockProvider>());

        var handle = await locks.TryAcquireAsync("job", "1");
        Assert.Equal("test-worker", handle!.Owner);
        inMemory.StopRenewing(LockRequest.Plain("job", "1"));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(handle.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public void AddInMemoryOrleansLocks_WithBadOptions_FailsAtRegistrationNamingTheRule()
    {
        var thrown = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddInMemoryOrleansLocks(o => o.LeaseTimeout = TimeSpan.Zero));

        Assert.Contains("LeaseTimeout must be positive", thrown.Message, StringComparison.Ordinal);
    }
}
