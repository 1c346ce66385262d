using OrleansLocks.Chaos;

namespace OrleansLocks.Tests.Chaos.Network;

/// <summary>The chaos program's switch for network faults.</summary>
public sealed class NetworkOptionsTests
{
    [Fact]
    public void NetworkFaults_AreOnUnlessTurnedOff()
    {
        Assert.True(ChaosOptions.Parse([]).Network);
        Assert.False(ChaosOptions.Parse(["--seed", "3", "--no-netns"]).Network);
    }

    [Fact]
    public void TheUsage_NamesTheSwitch() => Assert.Contains("--no-netns", ChaosOptions.Usage, StringComparison.Ordinal);

    [Fact]
    public void EveryNetworkFaultKind_HasItsOwnName_ApartFromTheOtherKinds()
    {
        Assert.Equal(["partition-silo", "silo-db-cut", "client-cut", "one-way-loss"], OrleansLocks.Chaos.Network.NetworkFaults.Kinds);
        Assert.True(OrleansLocks.Chaos.Network.NetworkFaults.MayLeaveTwoActivations("partition-silo"));
        Assert.False(OrleansLocks.Chaos.Network.NetworkFaults.MayLeaveTwoActivations("client-cut"));
    }
}
