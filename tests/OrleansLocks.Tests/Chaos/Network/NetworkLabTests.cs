using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using OrleansLocks.Chaos.Network;

namespace OrleansLocks.Tests.Chaos.Network;

/// <summary>
/// The chaos program's network lab on this machine's kernel (root, as on CI): real namespaces, a
/// real bridge, real TCP connections between namespaces, and the drop filter cutting them.
/// </summary>
public sealed class NetworkLabTests
{
    private const int NewNetworkNamespace = 0x40000000; // CLONE_NEWNET

    [Fact]
    public async Task ALabsTearDown_RemovesEveryNamespaceItMade()
    {
        var lab = await NetworkLab.CreateAsync(Environment.ProcessId);
        try
        {
            await lab.AddNodeAsync(LabNames.Silo(0));
            await lab.AddNodeAsync(LabNames.Worker("w1"));

            Assert.Equal(["ctl", "hub", "s0", "w1"], NodesOf(Environment.ProcessId));
        }
        finally
        {
            await lab.TearDownAsync();
        }

        Assert.Empty(NodesOf(Environment.ProcessId));
    }

    [Fact]
    public async Task ANewRun_RemovesTheNamespacesOfADeadRun_AndLeavesALiveRunsAlone()
    {
        using (var ended = Process.Start("true"))
        {
            await ended.WaitForExitAsync();
            await NetworkLab.CreateAsync(ended.Id);
            var live = await NetworkLab.CreateAsync(Environment.ProcessId);
            try
            {
                var removed = await NetworkLab.RemoveLeftoversAsync();

                Assert.True(removed >= 2, $"removed {removed}");
                Assert.Empty(NodesOf(ended.Id));
                Assert.Equal(["ctl", "hub"], NodesOf(Environment.ProcessId));
            }
            finally
            {
                await live.TearDownAsync();
                await NetworkLab.Attach(ended.Id).TearDownAsync();
            }
        }
    }

    [Fact]
    public async Task ACut_StopsConnectionsBetweenTwoNamespaces_AndHealingLetsThemThrough()
    {
        var lab = await NetworkLab.CreateAsync(Environment.ProcessId);
        try
        {
            var siloAddress = await lab.AddNodeAsync(LabNames.Silo(0));
            await lab.AddNodeAsync(LabNames.Worker("w1"));
            using var listener = InNamespace(lab, LabNames.Silo(0), () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            listener.Bind(new IPEndPoint(siloAddress, 0));
            listener.Listen();
            var endpoint = (IPEndPoint)listener.LocalEndPoint!;

            Assert.True(await ConnectsAsync(lab, endpoint), "before the cut");

            await lab.DropAsync(LabNames.Worker("w1"), [siloAddress], 1);
            Assert.False(await ConnectsAsync(lab, endpoint), "while the worker drops what it sends to the silo");

            await lab.HealAsync(LabNames.Worker("w1"));
            await lab.DropAsync(LabNames.Silo(0), [LabNames.Address(LabNames.Worker("w1"))], 1);
            Assert.False(await ConnectsAsync(lab, endpoint), "while the silo drops what it sends to the worker");

            await lab.HealAsync(LabNames.Silo(0));
            Assert.True(await ConnectsAsync(lab, endpoint), "after healing");
        }
        finally
        {
            await lab.TearDownAsync();
        }
    }

    private static async Task<bool> ConnectsAsync(NetworkLab lab, IPEndPoint endpoint)
    {
        using var client = InNamespace(lab, LabNames.Worker("w1"), () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await client.ConnectAsync(endpoint, giveUp.Token);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            return false;
        }
    }

    /// <summary>Makes a socket on a thread that has entered <paramref name="node"/>'s network namespace: the socket stays in it.</summary>
    private static T InNamespace<T>(NetworkLab lab, string node, Func<T> make)
    {
        var path = lab.Launcher(node)[1]["--net=".Length..];
        T? made = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle(path);
                if (SetNamespace(ns.DangerousGetHandle().ToInt32(), NewNetworkNamespace) != 0)
                {
                    throw new InvalidOperationException($"setns({path}) failed with errno {Marshal.GetLastPInvokeError()}.");
                }

                made = make();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? made! : throw new InvalidOperationException($"Could not enter {node}'s namespace.", failure);
    }

    private static List<string> NodesOf(int labId) =>
        [.. Directory.GetFiles("/run/netns").Select(Path.GetFileName).OfType<string>()
            .Where(n => LabNames.LabIdOf(n) == labId)
            .Select(n => n[(LabNames.Namespace(labId, "").Length)..])
            .Order(StringComparer.Ordinal)];

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNamespace(int fd, int type);
}
