using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>What the lock grains make of callers' owner names.</summary>
public sealed class CallerInputTests
{
    [Fact]
    public void TheSameOwnerName_FromTwoCalls_IsKeptAsOneString()
    {
        var first = CallerInput.ResolveOwner(new string("worker-7".AsSpan()));
        var second = CallerInput.ResolveOwner(new string("worker-7".AsSpan()));

        Assert.Equal("worker-7", second);
        Assert.Same(first, second);
    }

    [Fact]
    public void ABadOwnerName_IsStillRefused_NamingTheRule()
    {
        var error = Assert.Throws<ArgumentException>(() => CallerInput.ResolveOwner(new string('x', 10_000)));

        Assert.Contains("owner", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
