using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansLocks.Chaos.Network;

/// <summary>
/// Builds the classic BPF program that <c>tc filter ... bpf da bytecode</c> runs on a namespace's
/// outgoing IPv4 packets: a packet to one of the given addresses is dropped with the given
/// probability, every other packet passes. This machine's kernel has no netem and no tc actions,
/// but cls_bpf in direct-action mode is there, and classic BPF can read both the packet and a
/// random number, which is all a partition or a lossy link needs.
/// </summary>
internal static class BpfDropProgram
{
    // Classic BPF opcodes (linux/filter.h): ld word absolute, jeq k, jgt k, ret k.
    private const int LoadWord = 0x20;
    private const int JumpIfEqual = 0x15;
    private const int JumpIfGreater = 0x25;
    private const int Return = 0x06;

    // Offsets that the kernel resolves whatever link header comes first: SKF_NET_OFF (-0x100000)
    // points at the network header, so +16 is the IPv4 destination; SKF_AD_OFF (-0x1000) +
    // SKF_AD_RANDOM (56) loads a fresh random 32-bit number.
    private const uint DestinationAddress = unchecked((uint)-0x100000) + 16;
    private const uint RandomNumber = unchecked((uint)-0x1000) + 56;

    // tc's direct-action verdicts: TC_ACT_OK lets the packet go, TC_ACT_SHOT drops it.
    private const uint Pass = 0;
    private const uint Drop = 2;

    /// <summary>
    /// The program in tc's bytecode syntax ("count,code jt jf k,..."): packets to any of
    /// <paramref name="destinations"/> are dropped with <paramref name="dropProbability"/> (1 = all).
    /// </summary>
    public static string Build(IReadOnlyCollection<IPAddress> destinations, double dropProbability)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        if (destinations.Count is 0 or > 200)
        {
            throw new ArgumentOutOfRangeException(nameof(destinations), destinations.Count, "A drop program needs 1 to 200 destination addresses (a classic BPF jump reaches at most 255 instructions).");
        }

        if (!(dropProbability > 0 && dropProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropProbability), dropProbability, "The drop probability must be above 0 and at most 1.");
        }

        var program = new List<(int Code, int True, int False, uint K)> { (LoadWord, 0, 0, DestinationAddress) };
        var count = destinations.Count;
        var i = 0;
        foreach (var destination in destinations)
        {
            i++;

            // On a match jump to the "matched" block just after the final pass of the unmatched.
            program.Add((JumpIfEqual, count + 1 - i, 0, ToHostOrder(destination)));
        }

        program.Add((Return, 0, 0, Pass));
        if (dropProbability >= 1)
        {
            program.Add((Return, 0, 0, Drop));
        }
        else
        {
            // Drop when the random number is at most the threshold: probability (threshold + 1) / 2^32.
            var threshold = (uint)Math.Clamp(Math.Round(dropProbability * 4294967296.0) - 1, 0, uint.MaxValue);
            program.Add((LoadWord, 0, 0, RandomNumber));
            program.Add((JumpIfGreater, 1, 0, threshold));
            program.Add((Return, 0, 0, Drop));
            program.Add((Return, 0, 0, Pass));
        }

        var text = new StringBuilder(program.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var (code, jumpTrue, jumpFalse, k) in program)
        {
            text.Append(CultureInfo.InvariantCulture, $",{code} {jumpTrue} {jumpFalse} {k}");
        }

        return text.ToString();
    }

    /// <summary>An IPv4 address as the number BPF's word load reads from the packet (network byte order).</summary>
    public static uint ToHostOrder(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"The drop program matches IPv4 addresses only, not {address}.", nameof(address));
        }

        var bytes = address.GetAddressBytes();
        return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
    }
}
