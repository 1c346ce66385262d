using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace OrleansLocks.Chaos.Network;

/// <summary>
/// How a run's network namespaces are named and addressed. Every name carries the id (process id)
/// of the chaos program that made the lab, so that runs side by side never collide and the
/// leftovers of a run that died can be told from a live run's namespaces.
/// </summary>
internal static partial class LabNames
{
    /// <summary>The start of every namespace name a chaos lab makes.</summary>
    public const string Prefix = "olchaos-";

    /// <summary>The namespace that holds the lab's bridge.</summary>
    public const string Hub = "hub";

    /// <summary>The namespace of the controller (the chaos program itself, with its Orleans client).</summary>
    public const string Controller = "ctl";

    /// <summary>The namespace of PostgreSQL.</summary>
    public const string Postgres = "pg";

    /// <summary>The namespace name of <paramref name="node"/> in lab <paramref name="labId"/>.</summary>
    public static string Namespace(int labId, string node) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{labId}-{node}");

    /// <summary>The node name of silo <paramref name="index"/>.</summary>
    public static string Silo(int index) => string.Create(CultureInfo.InvariantCulture, $"s{index}");

    /// <summary>The node name of a worker process (its name, such as w3).</summary>
    public static string Worker(string name) => name;

    /// <summary>
    /// A node's address on the lab's bridge (10.77.0.0/24, private to the lab: nothing in the root
    /// namespace routes there): the controller .2, PostgreSQL .3, silo i .(10+i), worker wN .(60+N).
    /// </summary>
    public static IPAddress Address(string node)
    {
        var last = node switch
        {
            Controller => 2,
            Postgres => 3,
            _ when SiloNode().Match(node) is { Success: true } s && int.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture) < 50 =>
                10 + int.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture),
            _ when WorkerNode().Match(node) is { Success: true } w && int.Parse(w.Groups[1].Value, CultureInfo.InvariantCulture) is > 0 and < 190 =>
                60 + int.Parse(w.Groups[1].Value, CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(node), node, "A lab node is ctl, pg, s0 to s49 or w1 to w189."),
        };
        return new IPAddress([10, 77, 0, (byte)last]);
    }

    /// <summary>The lab id in a namespace name of ours, or null for any other namespace.</summary>
    public static int? LabIdOf(string namespaceName) =>
        OurNamespace().Match(namespaceName) is { Success: true } m && int.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>
    /// The namespaces left by labs whose program no longer runs (<paramref name="isRunning"/> says
    /// whether a process id is alive). Namespaces of live runs and anyone else's are left alone.
    /// </summary>
    public static List<string> Leftovers(IEnumerable<string> namespaceNames, Func<int, bool> isRunning) =>
        [.. namespaceNames.Where(n => LabIdOf(n) is { } id && !isRunning(id))];

    /// <summary>Namespace names as <c>ip netns list</c> prints them ("name" or "name (id: 3)").</summary>
    public static IEnumerable<string> ParseList(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0]);

    [GeneratedRegex(@"^olchaos-(\d+)-[a-z0-9]+$")]
    private static partial Regex OurNamespace();

    [GeneratedRegex(@"^s(\d+)$")]
    private static partial Regex SiloNode();

    [GeneratedRegex(@"^w(\d+)$")]
    private static partial Regex WorkerNode();
}
