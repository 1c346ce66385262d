using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Client;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.Client.BadInput;

/// <summary>The bad-input rules on the in-memory provider, plus its own public methods.</summary>
public sealed class InMemoryProviderBadArgumentTests : ProviderBadArgumentTests
{
    private readonly InMemoryLockProvider _locks = new(new FakeTimeProvider(), new InMemoryLockOptions { Owner = "worker-a" });

    protected override ILockProvider Locks => _locks;

    protected override ILockProvider Holder => _locks.ForOwner("worker-b");

    [Theory]
    [MemberData(nameof(BadArgumentCatalog.InMemoryOnlyCaseIds), MemberType = typeof(BadArgumentCatalog))]
    public async Task InMemoryOnlyMethods_GivenABadArgument_RefuseItNamingTheParameterAndTheRule(string caseId)
    {
        var badCase = BadArgumentCatalog.Case(caseId);
        var key = NewKey();

        var thrown = ThrownAtTheCall(badCase.Method, _locks, BadArgumentCatalog.Arguments(badCase.Method, key, badCase.Parameter, badCase.Value));

        var refused = Assert.IsAssignableFrom<ArgumentException>(thrown);
        Assert.IsAssignableFrom(badCase.Expected, refused);
        Assert.Equal(badCase.Parameter, refused.ParamName);
        Assert.Contains(badCase.RuleWord, refused.Message, StringComparison.Ordinal);
        await AssertFreeAsync(key);
    }

    [Fact]
    public void EveryParameterOfThePublicMethods_HasValuesToTry()
    {
        // A new public method is tried by parameter name: a name missing here needs its row in
        // BadArgumentCatalog.Parameters (a good value and its bad values).
        Assert.Empty(BadArgumentCatalog.Unlisted());
        Assert.NotEmpty(BadArgumentCatalog.ClientCaseIds);
        Assert.Contains(BadArgumentCatalog.ClientMethods, m => m.GetParameters().Any(p => p.Name == "timeout"));
    }

    protected override void AssertNoCallReachedTheLock(LockId id)
    {
        // Nothing to reach: the in-memory locks are checked free by AssertFreeAsync.
    }

    protected override Task WaitsInLineAsync(LockId id) =>
        // The in-memory provider joins the line before its call returns the task.
        Task.CompletedTask;

    protected override Task<object> TargetAsync(MethodInfo method, string key) =>
        method.DeclaringType == typeof(InMemoryLockProvider) ? Task.FromResult<object>(_locks) : base.TargetAsync(method, key);
}
