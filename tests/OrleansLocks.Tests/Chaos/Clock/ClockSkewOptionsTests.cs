using OrleansLocks.Chaos;

namespace OrleansLocks.Tests.Chaos.Clock;

/// <summary>The chaos program's clock-skew settings: beyond the bound means beyond the clients' allowance.</summary>
public sealed class ClockSkewOptionsTests
{
    [Fact]
    public void ASkewBeyondTheBound_IsTakenAsGiven()
    {
        var options = ChaosOptions.Parse(["--clock-skew-beyond", "4.5"]);

        Assert.Equal(TimeSpan.FromSeconds(4.5), options.ClockSkewBeyond);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0.5")]
    public void ASkewBeyondThatIsNotBeyondTheAllowance_IsRefusedNamingTheRule(string seconds)
    {
        var thrown = Assert.Throws<ArgumentException>(() => ChaosOptions.Parse(["--clock-skew-beyond", seconds]));

        Assert.Contains("must be more than the clients' clock-skew allowance", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutIt_TheSkewStaysBelowTheAllowance()
    {
        Assert.Null(ChaosOptions.Parse([]).ClockSkewBeyond);
        Assert.True(ChaosClient.ClockSkewAllowance <= ChaosOptions.Parse([]).LeaseTimeout / 3);
    }
}
