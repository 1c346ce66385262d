using System.Reflection;
using System.Runtime.ExceptionServices;
using OrleansLocks.Client;

namespace OrleansLocks.Tests.Client.BadInput;

/// <summary>
/// What a user of any <see cref="ILockProvider"/> relies on when passing bad input: the call itself
/// throws (before any task exists or any network call is made), with an ArgumentException whose
/// ParamName is the parameter and whose message names the rule, and nothing is granted or queued.
/// Written once, run against the Orleans provider and the in-memory one.
/// </summary>
public abstract class ProviderBadArgumentTests
{
    /// <summary>The provider under test.</summary>
    protected abstract ILockProvider Locks { get; }

    /// <summary>Another owner on the same locks, to hold what <see cref="Locks"/> waits for.</summary>
    protected abstract ILockProvider Holder { get; }

    [Theory]
    [MemberData(nameof(BadArgumentCatalog.ClientCaseIds), MemberType = typeof(BadArgumentCatalog))]
    public async Task EveryPublicMethod_GivenABadArgument_RefusesItAtTheCall_NamingTheParameterAndTheRule(string caseId)
    {
        var badCase = BadArgumentCatalog.Case(caseId);
        var key = NewKey();
        var target = await TargetAsync(badCase.Method, key);

        var thrown = ThrownAtTheCall(badCase.Method, target, BadArgumentCatalog.Arguments(badCase.Method, key, badCase.Parameter, badCase.Value));

        Assert.IsAssignableFrom(badCase.Expected, thrown);
        var refused = Assert.IsAssignableFrom<ArgumentException>(thrown);
        Assert.Equal(badCase.Parameter, refused.ParamName);
        Assert.Contains(badCase.RuleWord, refused.Message, StringComparison.Ordinal);
        if (badCase.Parameter == "timeout")
        {
            // One rule, one wording, wherever a timeout is taken.
            Assert.Contains(LockProvider.TimeoutRule, refused.Message, StringComparison.Ordinal);
        }

        if (target is (LockHandle or MultiLockHandle) and IAsyncDisposable handle)
        {
            // A handle method refused its input: the handle still holds its lock, unchanged.
            Assert.True(await IsStillValidAsync(handle));
            await handle.DisposeAsync();
        }
        else
        {
            AssertNoCallReachedTheLock(LockId.Create(BadArgumentCatalog.GoodName, key));
        }

        await AssertFreeAsync(key);
    }

    [Theory]
    [MemberData(nameof(BadArgumentCatalog.ProviderMethodIds), MemberType = typeof(BadArgumentCatalog))]
    public async Task EveryProviderMethod_GivenACancelledToken_IsCancelled_AndHoldsNothing(string methodId)
    {
        var method = BadArgumentCatalog.ProviderMethod(methodId);
        var key = NewKey();
        var arguments = BadArgumentCatalog.Arguments(method, key, "cancellationToken", new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CallAsync(method, Locks, arguments));

        AssertNoCallReachedTheLock(LockId.Create(BadArgumentCatalog.GoodName, key));
        await AssertFreeAsync(key);
    }

    public static TheoryData<string> LongValidTimeouts => ["49 days", "the longest a timer waits", "Timeout.InfiniteTimeSpan", "null"];

    [Theory]
    [MemberData(nameof(LongValidTimeouts))]
    public async Task AcquireAsync_WithAValidTimeoutUpToTheLongestATimerWaits_WaitsInLine_UntilCancelled(string which)
    {
        TimeSpan? timeout = which switch
        {
            "49 days" => TimeSpan.FromDays(49),
            "the longest a timer waits" => BadArgumentCatalog.LongestTimerWait,
            "Timeout.InfiniteTimeSpan" => Timeout.InfiniteTimeSpan,
            _ => null,
        };
        var key = NewKey();
        var holder = await Holder.TryAcquireAsync(BadArgumentCatalog.GoodName, key);
        Assert.NotNull(holder);

        using var cancel = new CancellationTokenSource();
        var wait = Locks.AcquireAsync(BadArgumentCatalog.GoodName, key, timeout, cancel.Token).AsTask();
        await WaitsInLineAsync(LockId.Create(BadArgumentCatalog.GoodName, key));
        Assert.False(wait.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        await holder.ReleaseAsync();
        await AssertFreeAsync(key);
    }

    [Fact]
    public async Task AcquireAllAsync_WithTheLongestTimeoutATimerWaits_WaitsInLine_UntilCancelled()
    {
        var key = NewKey();
        var holder = await Holder.TryAcquireAsync(BadArgumentCatalog.GoodName, key);
        Assert.NotNull(holder);

        using var cancel = new CancellationTokenSource();
        var wait = Locks.AcquireAllAsync([LockRequest.Plain(BadArgumentCatalog.GoodName, key)], BadArgumentCatalog.LongestTimerWait, cancel.Token).AsTask();
        await WaitsInLineAsync(LockId.Create(BadArgumentCatalog.GoodName, key));
        Assert.False(wait.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        await holder.ReleaseAsync();
        await AssertFreeAsync(key);
    }

    /// <summary>Asserts that no acquire or wait for the lock reached it (nothing beyond the caller's process happened).</summary>
    protected abstract void AssertNoCallReachedTheLock(LockId id);

    /// <summary>Returns once a waiter stands in the plain lock's line.</summary>
    protected abstract Task WaitsInLineAsync(LockId id);

    /// <summary>
    /// Calls <paramref name="method"/> and returns what it threw at the call; fails when it returned
    /// instead (a task that would carry the error is not "refused by the call").
    /// </summary>
    protected static Exception ThrownAtTheCall(MethodInfo method, object target, object?[] arguments)
    {
        object? returned;
        try
        {
            returned = method.Invoke(target, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            return ex.InnerException;
        }

        _ = AsTask(returned)?.ContinueWith(t => t.Exception, TaskScheduler.Default);
        Assert.Fail($"{method.DeclaringType!.Name}.{method.Name} returned {returned?.GetType().Name ?? "null"} instead of throwing at the call.");
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>The target a method is called on: the provider, or a handle it holds on <c>(GoodName, key)</c>.</summary>
    protected virtual async Task<object> TargetAsync(MethodInfo method, string key)
    {
        if (method.DeclaringType == typeof(LockHandle))
        {
            // THE PLACE FOR HANDLE KINDS: a method made for another kind of hold (e.g. an upgrade of an
            // upgradeable read) gets its handle here.
            return method.Name.Contains("Upgrade", StringComparison.Ordinal)
                ? (await Locks.TryAcquireUpgradeableReadAsync(BadArgumentCatalog.GoodName, key))!
                : (await Locks.TryAcquireAsync(BadArgumentCatalog.GoodName, key))!;
        }

        if (method.DeclaringType == typeof(MultiLockHandle))
        {
            return (await Locks.TryAcquireAllAsync([LockRequest.Plain(BadArgumentCatalog.GoodName, key)]))!;
        }

        return Locks;
    }

    /// <summary>Asserts the lock <c>(GoodName, key)</c> is free as a plain lock and as a read/write lock (nothing held or waiting).</summary>
    protected async Task AssertFreeAsync(string key)
    {
        await using (var plain = await Locks.TryAcquireAsync(BadArgumentCatalog.GoodName, key))
        {
            Assert.NotNull(plain);
        }

        await using (var write = await Locks.TryAcquireWriteAsync(BadArgumentCatalog.GoodName, key))
        {
            Assert.NotNull(write);
        }
    }

    protected static string NewKey() => Guid.NewGuid().ToString("N");

    private static async Task CallAsync(MethodInfo method, object target, object?[] arguments)
    {
        object? returned;
        try
        {
            returned = method.Invoke(target, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }

        if (AsTask(returned) is { } task)
        {
            await task;
        }
    }

    private static Task? AsTask(object? returned) => returned switch
    {
        Task task => task,
        ValueTask valueTask => valueTask.AsTask(),
        not null when returned.GetType().IsGenericType && returned.GetType().GetGenericTypeDefinition() == typeof(ValueTask<>) =>
            (Task)returned.GetType().GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(returned, null)!,
        _ => null,
    };

    private static ValueTask<bool> IsStillValidAsync(IAsyncDisposable handle) => handle switch
    {
        LockHandle one => one.IsStillValidAsync(),
        MultiLockHandle many => many.IsStillValidAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(handle), handle, "Not a lock handle."),
    };
}
