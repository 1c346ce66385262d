using System.Globalization;
using System.Net;
using OrleansLocks.Testing;

namespace OrleansLocks.Chaos.Network;

/// <summary>
/// A private network for one chaos run: a namespace per process (controller, PostgreSQL, each silo,
/// each worker), each joined by a veth pair to a bridge in a hub namespace of its own. No address
/// is added in the root namespace. Faults are egress drop filters (see <see cref="BpfDropProgram"/>)
/// on a node's link, set and cleared by the controller.
/// </summary>
internal sealed class NetworkLab
{
    /// <summary>The environment variable through which the supervisor hands its lab id to the run it starts.</summary>
    public const string LabVariable = "ORLEANSLOCKS_CHAOS_LAB";

    private const string Link = "eth0";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);
    private readonly HashSet<string> _nodes = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    private NetworkLab(int id)
    {
        Id = id;
    }

    /// <summary>The lab's id: the process id of the chaos program that made it.</summary>
    public int Id { get; }

    /// <summary>The lab made by the supervisor whose id is <paramref name="id"/>; its hub and controller namespaces exist.</summary>
    public static NetworkLab Attach(int id)
    {
        var lab = new NetworkLab(id);
        lab._nodes.Add(LabNames.Controller);
        return lab;
    }

    /// <summary>Makes the hub with its bridge and the controller's namespace.</summary>
    public static async Task<NetworkLab> CreateAsync(int id)
    {
        var lab = new NetworkLab(id);
        var hub = LabNames.Namespace(id, LabNames.Hub);
        await IpAsync("netns", "add", hub);
        await IpAsync("-n", hub, "link", "add", "br0", "type", "bridge");
        await IpAsync("-n", hub, "link", "set", "br0", "up");
        await IpAsync("-n", hub, "link", "set", "lo", "up");
        await lab.AddNodeAsync(LabNames.Controller);
        return lab;
    }

    /// <summary>The command that runs a program inside <paramref name="node"/>'s namespace (only its network; the process id stays the program's).</summary>
    public IReadOnlyList<string> Launcher(string node) => ["nsenter", $"--net=/run/netns/{LabNames.Namespace(Id, node)}", "--"];

    /// <summary>Makes <paramref name="node"/>'s namespace, its link to the bridge and its address, once.</summary>
    public async Task<IPAddress> AddNodeAsync(string node)
    {
        var address = LabNames.Address(node);
        await _gate.WaitAsync();
        try
        {
            if (!_nodes.Add(node))
            {
                return address;
            }

            var ns = LabNames.Namespace(Id, node);
            var hub = LabNames.Namespace(Id, LabNames.Hub);
            var port = $"v{node}";
            await IpAsync("netns", "add", ns);
            await IpAsync("-n", hub, "link", "add", port, "type", "veth", "peer", "name", Link, "netns", ns);
            await IpAsync("-n", hub, "link", "set", port, "master", "br0", "up");
            await IpAsync("-n", ns, "link", "set", "lo", "up");
            await IpAsync("-n", ns, "addr", "add", $"{address}/24", "dev", Link);
            await IpAsync("-n", ns, "link", "set", Link, "up");
            await RunAsync("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", Link, "clsact");
            return address;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops <paramref name="probability"/> of what <paramref name="node"/> sends to <paramref name="destinations"/> (replacing any earlier filter of it).</summary>
    public async Task DropAsync(string node, IReadOnlyCollection<IPAddress> destinations, double probability)
    {
        var program = BpfDropProgram.Build(destinations, probability);
        await HealAsync(node);
        await RunAsync("ip", "netns", "exec", LabNames.Namespace(Id, node), "tc", "filter", "add", "dev", Link, "egress", "protocol", "ip", "bpf", "da", "bytecode", program);
    }

    /// <summary>Removes <paramref name="node"/>'s drop filter, if it has one.</summary>
    public Task HealAsync(string node) =>
        RunAsync("ip", "netns", "exec", LabNames.Namespace(Id, node), "tc", "filter", "del", "dev", Link, "egress");

    /// <summary>Kills whatever still runs in this lab's namespaces and deletes them (their veths go with them).</summary>
    public Task TearDownAsync() => RemoveAsync(ListNamespaces().Where(n => LabNames.LabIdOf(n) == Id).ToList());

    /// <summary>Removes the namespaces of labs whose chaos program is no longer running.</summary>
    public static async Task<int> RemoveLeftoversAsync()
    {
        var leftovers = LabNames.Leftovers(ListNamespaces(), pid => Directory.Exists($"/proc/{pid}"));
        await RemoveAsync(leftovers);
        return leftovers.Count;
    }

    private static async Task RemoveAsync(List<string> namespaces)
    {
        // Processes first: a namespace lives on while a process is in it.
        foreach (var ns in namespaces)
        {
            try
            {
                var pids = (await ProcessRunner.RunAsync("ip", ["netns", "pids", ns], CommandTimeout))
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (pids.Length > 0)
                {
                    await ProcessRunner.RunAsync("kill", ["-KILL", .. pids], CommandTimeout);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone, or a process that ended between the listing and the kill.
            }
        }

        // The hub last, so that no veth is left dangling while the others go.
        foreach (var ns in namespaces.OrderBy(n => n.EndsWith($"-{LabNames.Hub}", StringComparison.Ordinal)))
        {
            try
            {
                await ProcessRunner.RunAsync("ip", ["netns", "del", ns], CommandTimeout);
            }
            catch (InvalidOperationException)
            {
                // Deleted by someone else meanwhile.
            }
        }
    }

    private static List<string> ListNamespaces() =>
        Directory.Exists("/run/netns") ? [.. Directory.GetFiles("/run/netns").Select(Path.GetFileName).OfType<string>()] : [];

    private static Task IpAsync(params string[] arguments) => RunAsync(["ip", .. arguments]);

    private static Task RunAsync(params string[] command) => ProcessRunner.RunAsync(command[0], command[1..], CommandTimeout);

    /// <summary>A short description for the run's log.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"network lab {LabNames.Namespace(Id, "*")} on 10.77.0.0/24");
}
