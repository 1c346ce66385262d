using System.Globalization;
using System.Net;

namespace OrleansLocks.Chaos.Network;

/// <summary>
/// The network fault kinds, injected through the lab's drop filters between real processes. Each
/// lasts past membership's failure detection (a 1 s probe timeout, 2 missed probes) and, for a
/// client, past its lease; then it heals. Every choice is drawn from the run's seeded random.
/// Added latency and jitter are left out: this kernel has no netem qdisc, nor the fq qdisc or tc
/// actions a BPF program would need to hold packets back (see docs/safety.md).
/// </summary>
/// <param name="cluster">The run's processes.</param>
/// <param name="lab">Their namespaces.</param>
/// <param name="random">The run's seeded random.</param>
/// <param name="heldBy">The locks a worker holds by its own reports.</param>
/// <param name="probeWithFencedWrite">Acquires a lock as the controller, writes through the fence with it, releases it.</param>
/// <param name="lease">The lease timeout.</param>
internal sealed class NetworkFaults(
    ChaosCluster cluster,
    NetworkLab lab,
    Random random,
    Func<string, List<string>> heldBy,
    Func<string, string, Task> probeWithFencedWrite,
    TimeSpan lease)
{
    /// <summary>
    /// partition-silo: one silo and the other silos cannot reach each other (both ways), PostgreSQL
    /// and clients still reach all. silo-db-cut: one silo and PostgreSQL cannot reach each other.
    /// client-cut: a worker and every silo cannot reach each other; it still reaches PostgreSQL.
    /// one-way-loss: a share of the packets from one party to another is lost, the other way is whole.
    /// </summary>
    public static readonly string[] Kinds = ["partition-silo", "silo-db-cut", "client-cut", "one-way-loss"];

    /// <summary>
    /// Whether the fault can get a running silo declared dead (its probes go unanswered), so that its
    /// activations answer for a while beside the new ones, as in a pause-silo fault.
    /// </summary>
    public static bool MayLeaveTwoActivations(string kind) => kind is "partition-silo" or "silo-db-cut" or "one-way-loss";

    /// <summary>Injects one fault of <paramref name="kind"/>, waits it out, heals it; returns its target.</summary>
    public async Task<string> InjectAsync(string kind)
    {
        var touched = new HashSet<string>();
        string target;
        int? silo = null;
        try
        {
            switch (kind)
            {
                case "partition-silo":
                    silo = PickLiveSilo();
                    target = LabNames.Silo(silo.Value);
                    await CutAsync(target, OtherSilos(silo.Value), touched);
                    await Task.Delay(random.Next(6000, 9000));
                    break;
                case "silo-db-cut":
                    silo = PickLiveSilo();
                    target = LabNames.Silo(silo.Value);
                    await CutAsync(target, [LabNames.Postgres], touched);
                    await Task.Delay(random.Next(6000, 9000));
                    break;
                case "client-cut":
                    target = await CutClientAsync(touched);
                    break;
                case "one-way-loss":
                    target = await LoseOneWayAsync(touched);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a network fault kind.");
            }
        }
        finally
        {
            foreach (var node in touched)
            {
                await lab.HealAsync(node);
            }
        }

        await RestartDeclaredDeadAsync(silo);
        return target;
    }

    /// <summary>
    /// Cuts a worker from every silo while it holds locks, and keeps it cut until the controller has
    /// acquired each of them (so past the worker's lease) and written through the fence with the newer
    /// token: what the cut worker writes afterwards must be refused by PostgreSQL's fence.
    /// </summary>
    private async Task<string> CutClientAsync(HashSet<string> touched)
    {
        var workers = cluster.LiveWorkers.OrderBy(_ => random.Next()).ToList();
        var worker = workers.FirstOrDefault(w => heldBy(w).Count > 0) ?? workers[0];
        var held = heldBy(worker);
        await CutAsync(worker, AllSilos(), touched);
        var leaseOver = Task.Delay(lease + TimeSpan.FromSeconds(1));
        await Task.WhenAll(held.Select(l => probeWithFencedWrite(l, $"while {worker} was cut from its gateways")).Append(leaseOver));
        return worker;
    }

    private async Task<string> LoseOneWayAsync(HashSet<string> touched)
    {
        var silo = LabNames.Silo(PickLiveSilo());
        var worker = cluster.LiveWorkers.OrderBy(_ => random.Next()).First();
        var others = OtherSilos(int.Parse(silo[1..], CultureInfo.InvariantCulture));
        (string From, string To) link = random.Next(4) switch
        {
            0 => (silo, others[random.Next(others.Count)]),
            1 => (silo, LabNames.Postgres),
            2 => (worker, silo),
            _ => (silo, worker),
        };
        var share = random.Next(30, 61);
        touched.Add(link.From);
        await lab.DropAsync(link.From, [LabNames.Address(link.To)], share / 100.0);
        await Task.Delay(random.Next(6000, 10000));
        return $"{link.From}>{link.To}:{share}%";
    }

    /// <summary>Drops everything between <paramref name="node"/> and each of <paramref name="peers"/>, both ways.</summary>
    private async Task CutAsync(string node, IReadOnlyList<string> peers, HashSet<string> touched)
    {
        touched.Add(node);
        await lab.DropAsync(node, [.. peers.Select(LabNames.Address)], 1);
        foreach (var peer in peers)
        {
            touched.Add(peer);
            await lab.DropAsync(peer, [LabNames.Address(node)], 1);
        }
    }

    /// <summary>
    /// A silo declared dead while cut off stops itself once it learns so; the fault's target, when the
    /// membership table says it was declared dead, gets 20 s to do so (then it is killed, a zombie)
    /// and is started again. Any other silo found stopped is started again too.
    /// </summary>
    private async Task RestartDeclaredDeadAsync(int? target)
    {
        if (target is { } t && cluster.Silos[t] is not null)
        {
            if (!await cluster.DeclaredDeadAsync(t))
            {
                Console.WriteLine($"  note: silo{t} was not declared dead during the fault");
            }
            else if (await cluster.RestartIfExitedAsync(t, TimeSpan.FromSeconds(20)))
            {
                Console.WriteLine($"  note: silo{t} was declared dead during the fault and stopped itself; it was started again");
            }
            else
            {
                await cluster.KillSiloAsync(t);
                await cluster.StartSiloAsync(t);
                Console.WriteLine($"  note: silo{t} was declared dead during the fault and still ran 20 s after it healed; it was killed and started again");
            }
        }

        for (var i = 0; i < cluster.Silos.Count; i++)
        {
            if (await cluster.RestartIfExitedAsync(i, TimeSpan.FromMilliseconds(100)))
            {
                Console.WriteLine($"  note: silo{i} had stopped by the end of the network fault; it was started again");
            }
        }
    }

    private int PickLiveSilo()
    {
        var live = Enumerable.Range(0, cluster.Silos.Count).Where(i => cluster.Silos[i] is not null).ToList();
        return live[random.Next(live.Count)];
    }

    private List<string> OtherSilos(int index) => [.. Enumerable.Range(0, cluster.Silos.Count).Where(i => i != index).Select(LabNames.Silo)];

    private List<string> AllSilos() => [.. Enumerable.Range(0, cluster.Silos.Count).Select(LabNames.Silo)];
}
