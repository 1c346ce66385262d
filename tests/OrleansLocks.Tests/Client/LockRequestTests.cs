using OrleansLocks.Client;

namespace OrleansLocks.Tests.Client;

/// <summary>The canonical multi-lock order and its duplicate check, a rule of <see cref="LockRequest"/>: no cluster.</summary>
public sealed class LockRequestTests
{
    [Fact]
    public void InCanonicalOrder_PutsPlainLocksFirst_ThenReadWriteLocks_EachByNameThenKey()
    {
        var ordered = LockRequest.InCanonicalOrder(
        [
            LockRequest.Write("room", "b"),
            LockRequest.Plain("purge", "z"),
            LockRequest.Read("alpha", "x"),
            LockRequest.Write("room", "a"),
            LockRequest.Plain("purge", "a"),
            LockRequest.Plain("Purge", "m"),
        ]);

        Assert.Equal(
        [
            LockRequest.Plain("Purge", "m"),
            LockRequest.Plain("purge", "a"),
            LockRequest.Plain("purge", "z"),
            LockRequest.Read("alpha", "x"),
            LockRequest.Write("room", "a"),
            LockRequest.Write("room", "b"),
        ], ordered);
    }

    [Fact]
    public void InCanonicalOrder_IsTheSameWhateverOrderTheCallerListed()
    {
        LockRequest[] requests =
        [
            LockRequest.Write("room", "!b:example.org"),
            LockRequest.Plain("purge", "!a:example.org"),
            LockRequest.Read("state", ""),
            LockRequest.Write("room", "!a:example.org"),
        ];

        var first = LockRequest.InCanonicalOrder(requests);
        var reversed = LockRequest.InCanonicalOrder(requests.Reverse());
        var shuffled = LockRequest.InCanonicalOrder([requests[2], requests[0], requests[3], requests[1]]);

        Assert.Equal(first, reversed);
        Assert.Equal(first, shuffled);
    }

    [Fact]
    public void InCanonicalOrder_ComparesKeysOrdinally_NotByCulture()
    {
        var ordered = LockRequest.InCanonicalOrder([LockRequest.Plain("n", "b"), LockRequest.Plain("n", "B"), LockRequest.Plain("n", "a")]);

        Assert.Equal(["B", "a", "b"], ordered.Select(r => r.Id.Key));
    }

    [Fact]
    public void InCanonicalOrder_KeepsAPlainAndAReadWriteLockOfTheSameNameAndKey_AsTwoLocks()
    {
        var ordered = LockRequest.InCanonicalOrder([LockRequest.Write("room", "a"), LockRequest.Plain("room", "a")]);

        Assert.Equal([LockKind.Plain, LockKind.Write], ordered.Select(r => r.Kind));
    }

    [Theory]
    [InlineData(LockKind.Plain, LockKind.Plain, "plain lock 'room:a' twice")]
    [InlineData(LockKind.Read, LockKind.Write, "read/write lock 'room:a' twice")]
    [InlineData(LockKind.Read, LockKind.Read, "read/write lock 'room:a' twice")]
    public void InCanonicalOrder_RefusesOneLockNamedTwice(LockKind first, LockKind second, string rule)
    {
        var id = LockId.Create("room", "a");

        var thrown = Assert.Throws<ArgumentException>(() => LockRequest.InCanonicalOrder([LockRequest.For(first, id), LockRequest.Plain("other", "x"), LockRequest.For(second, id)]));

        Assert.Contains(rule, thrown.Message, StringComparison.Ordinal);
        Assert.Equal("locks", thrown.ParamName);
    }

    [Fact]
    public void InCanonicalOrder_RefusesAnEmptyList()
    {
        var thrown = Assert.Throws<ArgumentException>(() => LockRequest.InCanonicalOrder([]));

        Assert.Contains("at least one lock", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InCanonicalOrder_RefusesADefaultRequest()
    {
        var thrown = Assert.Throws<ArgumentException>(() => LockRequest.InCanonicalOrder([LockRequest.Plain("n", "k"), default]));

        Assert.Contains("must be made with LockRequest.Plain", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InCanonicalOrder_RefusesNull() =>
        Assert.Throws<ArgumentNullException>(() => LockRequest.InCanonicalOrder(null!));
}
