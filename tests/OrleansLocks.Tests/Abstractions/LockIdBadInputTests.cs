namespace OrleansLocks.Tests.Abstractions;

/// <summary>A lock id's bad input names the caller's parameter and the rule.</summary>
public sealed class LockIdBadInputTests
{
    [Theory]
    [InlineData("sp ace:key", LockId.NameRule)]
    [InlineData(":key", LockId.NameRule)]
    [InlineData("name:a\0b", LockId.KeyRule)]
    public void Parse_OfAGrainKeyWithABadPart_NamesTheGrainKeyParameterAndTheRule(string grainKey, string rule)
    {
        var refused = Assert.Throws<ArgumentException>(() => LockId.Parse(grainKey));

        Assert.Equal("grainKey", refused.ParamName);
        Assert.Contains(rule, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OfNull_IsRefusedNamingTheParameter()
    {
        Assert.Equal("grainKey", Assert.Throws<ArgumentNullException>(() => LockId.Parse(null!)).ParamName);
    }

    [Theory]
    // Far from the defined kinds, so kinds added later (semaphores, upgradeable reads) stay out of the way.
    [InlineData(-1)]
    [InlineData(42)]
    [InlineData(int.MaxValue)]
    public void AnUndefinedKind_CannotBecomeARequest(int kind)
    {
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => OrleansLocks.Client.LockRequest.For((LockKind)kind, LockId.Create("name", "key")));

        Assert.Equal("kind", refused.ParamName);
        Assert.Contains("LockKind", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADefaultLockId_CannotBecomeARequest()
    {
        var refused = Assert.Throws<ArgumentException>(() => OrleansLocks.Client.LockRequest.For(LockKind.Plain, default));

        Assert.Equal("id", refused.ParamName);
        Assert.Contains("LockId.Create", refused.Message, StringComparison.Ordinal);
    }
}
