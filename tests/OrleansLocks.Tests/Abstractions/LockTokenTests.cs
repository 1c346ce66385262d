namespace OrleansLocks.Tests.Abstractions;

public sealed class LockTokenTests
{
    [Fact]
    public void New_Has128RandomBitsAsHex()
    {
        var tokens = Enumerable.Range(0, 1000).Select(_ => LockToken.New()).ToHashSet();
        Assert.Equal(1000, tokens.Count);
        Assert.All(tokens, t => Assert.Matches("^[0-9a-f]{32}$", t));
    }

    [Theory]
    [InlineData(null, "it is null")]
    [InlineData("", "it is empty")]
    public void Validate_RefusesMissingTokens(string? token, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => LockToken.Validate(token));
        Assert.Contains(LockToken.Rule, ex.Message, StringComparison.Ordinal);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RefusesOverlongTokens()
    {
        var ex = Assert.Throws<ArgumentException>(() => LockToken.Validate(new string('a', 129)));
        Assert.Contains("129 characters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Matches_ComparesWholeTokens()
    {
        var token = LockToken.New();
        Assert.True(LockToken.Matches(token, token));
        Assert.False(LockToken.Matches(token, token[..31]));
        Assert.False(LockToken.Matches(null, token));
    }
}
