using OrleansLocks.Testing;

namespace OrleansLocks.Tests.Infrastructure;

public sealed class FreePortTests
{
    [Fact]
    public void Ports_handed_out_stay_below_the_range_the_kernel_gives_outgoing_connections()
    {
        // A CI run once failed because a silo's HTTP port (34870) was found free, then taken by an outgoing
        // connection before the silo bound it: ports in the ephemeral range are never safe to reserve this way.
        var ephemeralStart = FreePort.EphemeralRangeStart();

        // Enough ports to wrap around the whole range at least once.
        for (var i = 0; i < ephemeralStart - FreePort.Lowest + 100; i++)
        {
            var port = FreePort.Next();
            Assert.InRange(port, FreePort.Lowest, ephemeralStart - 1);
        }
    }
}
