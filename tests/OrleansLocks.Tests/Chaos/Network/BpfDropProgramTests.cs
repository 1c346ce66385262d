using System.Globalization;
using System.Net;
using OrleansLocks.Chaos.Network;

namespace OrleansLocks.Tests.Chaos.Network;

/// <summary>
/// The drop filter's classic BPF program, run here by a small interpreter of the few instructions it
/// uses, on IPv4 packets as cls_bpf sees them: what it drops is what the network faults rely on.
/// </summary>
public sealed class BpfDropProgramTests
{
    private static readonly IPAddress Silo0 = IPAddress.Parse("10.77.0.10");
    private static readonly IPAddress Silo1 = IPAddress.Parse("10.77.0.11");
    private static readonly IPAddress Postgres = IPAddress.Parse("10.77.0.3");

    [Fact]
    public void ACut_DropsEveryPacketToTheListedAddresses_AndPassesTheRest()
    {
        var program = BpfDropProgram.Build([Silo0, Silo1], 1);

        Assert.True(Drops(program, Silo0, random: 0));
        Assert.True(Drops(program, Silo1, random: uint.MaxValue));
        Assert.False(Drops(program, Postgres, random: 0));
    }

    [Fact]
    public void ALoss_DropsAPacketToTheAddressWhenTheRandomNumberIsWithinItsShare()
    {
        var program = BpfDropProgram.Build([Postgres], 0.25);
        const uint quarter = 1u << 30;

        Assert.True(Drops(program, Postgres, random: 0));
        Assert.True(Drops(program, Postgres, random: quarter - 1));
        Assert.False(Drops(program, Postgres, random: quarter));
        Assert.False(Drops(program, Postgres, random: uint.MaxValue));
        Assert.False(Drops(program, Silo0, random: 0));
    }

    [Fact]
    public void ALoss_DropsItsShareOfPacketsOverEveryRandomNumber()
    {
        var program = BpfDropProgram.Build([Silo0], 0.4);
        var samples = Enumerable.Range(0, 1000).Select(i => (uint)((ulong)i * uint.MaxValue / 999));

        var dropped = samples.Count(r => Drops(program, Silo0, r));

        Assert.InRange(dropped, 399, 401);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void ADropProbabilityOutsideZeroToOne_IsRefusedNamingTheRule(double probability)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => BpfDropProgram.Build([Silo0], probability));

        Assert.Contains("above 0 and at most 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AProgramWithoutDestinations_IsRefusedNamingTheRule()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => BpfDropProgram.Build([], 1));

        Assert.Contains("1 to 200 destination addresses", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnIPv6Address_IsRefused_SinceTheProgramReadsIPv4Headers()
    {
        Assert.Throws<ArgumentException>(() => BpfDropProgram.Build([IPAddress.IPv6Loopback], 1));
    }

    /// <summary>
    /// Runs the program as the kernel would on an IPv4 packet to <paramref name="destination"/>, with
    /// <paramref name="random"/> as the random number; true when its verdict is TC_ACT_SHOT (2).
    /// </summary>
    private static bool Drops(string bytecode, IPAddress destination, uint random)
    {
        var parts = bytecode.Split(',');
        var count = int.Parse(parts[0], CultureInfo.InvariantCulture);
        var program = parts.Skip(1).Select(p => p.Split(' ').Select(x => uint.Parse(x, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(count, program.Length);
        var destinationWord = BitConverter.ToUInt32([.. destination.GetAddressBytes().Reverse()]);
        uint accumulator = 0;
        for (var pc = 0; pc < program.Length; pc++)
        {
            var (code, jumpTrue, jumpFalse, k) = (program[pc][0], (int)program[pc][1], (int)program[pc][2], program[pc][3]);
            switch (code)
            {
                case 0x20 when k == 0xFFF00010: // ld [SKF_NET_OFF + 16]: the IPv4 destination
                    accumulator = destinationWord;
                    break;
                case 0x20 when k == 0xFFFFF038: // ld [SKF_AD_OFF + SKF_AD_RANDOM]
                    accumulator = random;
                    break;
                case 0x15:
                    pc += accumulator == k ? jumpTrue : jumpFalse;
                    break;
                case 0x25:
                    pc += accumulator > k ? jumpTrue : jumpFalse;
                    break;
                case 0x06:
                    Assert.True(k is 0 or 2, $"verdict {k} is neither pass (0) nor drop (2)");
                    return k == 2;
                default:
                    Assert.Fail($"Unexpected instruction {code} {jumpTrue} {jumpFalse} {k} at {pc}.");
                    break;
            }
        }

        Assert.Fail("The program ran off its end without a verdict.");
        return false;
    }
}
