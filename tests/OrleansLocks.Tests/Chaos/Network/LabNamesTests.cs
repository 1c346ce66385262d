using OrleansLocks.Chaos.Network;

namespace OrleansLocks.Tests.Chaos.Network;

/// <summary>How a chaos run's network namespaces are named and addressed, and which leftovers a new run removes.</summary>
public sealed class LabNamesTests
{
    [Fact]
    public void ANamespaceName_CarriesTheLabIdSoThatItCanBeReadBack()
    {
        var name = LabNames.Namespace(4242, LabNames.Silo(1));

        Assert.Equal("olchaos-4242-s1", name);
        Assert.Equal(4242, LabNames.LabIdOf(name));
    }

    [Theory]
    [InlineData("olchaos-12-ctl", 12)]
    [InlineData("olchaos-12-w17", 12)]
    [InlineData("olchaos-x-ctl", null)]
    [InlineData("olchaos-12", null)]
    [InlineData("someone-else", null)]
    [InlineData("olchaosx-12-ctl", null)]
    public void OnlyOurNamespaceNames_GiveALabId(string name, int? expected) => Assert.Equal(expected, LabNames.LabIdOf(name));

    [Fact]
    public void Leftovers_AreTheNamespacesOfLabsWhoseProgramNoLongerRuns_AndNothingElse()
    {
        string[] present = ["olchaos-100-hub", "olchaos-100-s0", "olchaos-200-hub", "olchaos-200-w3", "blue", "test-300-ctl"];

        var leftovers = LabNames.Leftovers(present, pid => pid == 200);

        Assert.Equal(["olchaos-100-hub", "olchaos-100-s0"], leftovers);
    }

    [Fact]
    public void TheListOfIpNetns_IsReadWithOrWithoutIds()
    {
        var names = LabNames.ParseList("olchaos-1-s0 (id: 3)\nolchaos-1-hub\n\n");

        Assert.Equal(["olchaos-1-s0", "olchaos-1-hub"], names);
    }

    [Fact]
    public void EachNode_HasItsOwnAddressOnTheLabsSubnet()
    {
        string[] nodes = [LabNames.Controller, LabNames.Postgres, LabNames.Silo(0), LabNames.Silo(49), LabNames.Worker("w1"), LabNames.Worker("w189")];

        var addresses = nodes.Select(n => LabNames.Address(n).ToString()).ToList();

        Assert.Equal(["10.77.0.2", "10.77.0.3", "10.77.0.10", "10.77.0.59", "10.77.0.61", "10.77.0.249"], addresses);
    }

    [Theory]
    [InlineData("s50")]
    [InlineData("w0")]
    [InlineData("w190")]
    [InlineData("hub")]
    public void ANodeOutsideTheAddressPlan_IsRefusedNamingThePlan(string node)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => LabNames.Address(node));

        Assert.Contains("ctl, pg, s0 to s49 or w1 to w189", error.Message, StringComparison.Ordinal);
    }
}
