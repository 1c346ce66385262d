using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using OrleansLocks.DistributedLock;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// The adapter's own bad-argument table: every public method of its lock, semaphore and handle types
/// that takes a timeout is found by reflection (so a method added later is tried as soon as it
/// exists) and given each bad timeout; the call itself must refuse it, naming the parameter and the
/// rule. Over the in-memory provider: nothing here needs a cluster.
/// </summary>
public sealed class DistributedLockBadArgumentTests
{
    private static readonly Type[] AdapterTypes =
    [
        typeof(OrleansLocksDistributedLock),
        typeof(OrleansLocksDistributedReaderWriterLock),
        typeof(OrleansLocksDistributedSemaphore),
        typeof(OrleansLocksDistributedUpgradeableReaderWriterLock),
        typeof(OrleansLocksDistributedLockUpgradeableHandle),
    ];

    private static readonly Dictionary<string, TimeSpan> BadTimeouts = new()
    {
        ["-2 ms"] = TimeSpan.FromMilliseconds(-2),
        ["-1 s"] = TimeSpan.FromSeconds(-1),
        ["TimeSpan.MinValue"] = TimeSpan.MinValue,
        ["TimeSpan.MaxValue"] = TimeSpan.MaxValue,
        ["1 ms over the longest a timer waits"] = TimeSpan.FromMilliseconds(uint.MaxValue - 1) + TimeSpan.FromMilliseconds(1),
        ["60 days"] = TimeSpan.FromDays(60),
    };

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var method in TimeoutMethods())
        {
            foreach (var bad in BadTimeouts.Keys)
            {
                cases.Add(Describe(method), bad);
            }
        }

        return cases;
    }

    [Fact]
    public void TheTable_CoversTheSemaphoreAndUpgradeForms()
    {
        var names = TimeoutMethods().Select(Describe).ToHashSet();
        Assert.Contains("OrleansLocksDistributedSemaphore.TryAcquireAsync(TimeSpan, CancellationToken)", names);
        Assert.Contains("OrleansLocksDistributedUpgradeableReaderWriterLock.AcquireUpgradeableReadLock(Nullable`1, CancellationToken)", names);
        Assert.Contains("OrleansLocksDistributedLockUpgradeableHandle.UpgradeToWriteLockAsync(Nullable`1, CancellationToken)", names);
        Assert.Equal(4 + 8 + 4 + 12 + 4, names.Count);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryAdapterMethodTakingATimeout_RefusesABadOne_AtTheCall_NamingTheRule(string methodId, string badTimeout)
    {
        var method = TimeoutMethods().Single(m => Describe(m) == methodId);
        var locks = new InMemoryLockProvider(new FakeTimeProvider());
        var adapter = new OrleansLocksDistributedLockProvider(locks);
        var name = $"bad-{Guid.NewGuid():N}";
        await using var upgradeable = await adapter.CreateUpgradeableReaderWriterLock(name + "-handle").AcquireUpgradeableReadLockAsync();
        object target = method.DeclaringType!.Name switch
        {
            nameof(OrleansLocksDistributedLock) => adapter.CreateLock(name),
            nameof(OrleansLocksDistributedReaderWriterLock) => adapter.CreateReaderWriterLock(name),
            nameof(OrleansLocksDistributedSemaphore) => adapter.CreateSemaphore(name, 2),
            nameof(OrleansLocksDistributedUpgradeableReaderWriterLock) => adapter.CreateUpgradeableReaderWriterLock(name),
            _ => upgradeable,
        };

        var arguments = method.GetParameters()
            .Select(p => p.Name == "timeout" ? BadTimeouts[badTimeout] : p.ParameterType == typeof(CancellationToken) ? CancellationToken.None : (object?)null)
            .ToArray();

        // Thrown by the call itself: invoking throws, rather than returning a faulted task.
        var thrown = Assert.Throws<TargetInvocationException>(() => method.Invoke(target, arguments));
        var error = Assert.IsType<ArgumentOutOfRangeException>(thrown.InnerException);
        Assert.Equal("timeout", error.ParamName);
        Assert.Contains("at most 49 days", error.Message, StringComparison.Ordinal);

        // Nothing was taken: the lock, and the handle's upgrade, are still to be had.
        Assert.True(await upgradeable.TryUpgradeToWriteLockAsync());
        await using var free = await adapter.CreateLock(name).TryAcquireAsync();
        Assert.NotNull(free);
    }

    private static IEnumerable<MethodInfo> TimeoutMethods() =>
        AdapterTypes
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => m.GetParameters().Any(p => p.Name == "timeout"))
            .OrderBy(Describe, StringComparer.Ordinal);

    private static string Describe(MethodInfo method) =>
        $"{method.DeclaringType!.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";
}
