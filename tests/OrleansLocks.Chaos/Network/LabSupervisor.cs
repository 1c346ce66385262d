using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using OrleansLocks.Testing;

namespace OrleansLocks.Chaos.Network;

/// <summary>
/// The chaos program's outer process when network faults are on: it builds the lab, runs the real
/// run (this same program) inside the controller's namespace, and tears the lab down when that run
/// ends, however it ends (exit, failure, Ctrl+C, SIGTERM). It has no address itself.
/// </summary>
internal static class LabSupervisor
{
    /// <summary>The lab this process was started in by a supervisor, or null when it runs in the root namespace.</summary>
    public static NetworkLab? Attached() =>
        int.TryParse(Environment.GetEnvironmentVariable(NetworkLab.LabVariable), CultureInfo.InvariantCulture, out var id) ? NetworkLab.Attach(id) : null;

    /// <summary>
    /// Runs the chaos program with <paramref name="args"/> inside a new lab and returns its exit code,
    /// or null (having said why) when no lab can be built here, so that the run goes on without network faults.
    /// </summary>
    public static async Task<int?> TryRunAsync(IReadOnlyList<string> args)
    {
        if (Environment.UserName != "root")
        {
            Console.WriteLine("Network faults are off: network namespaces need root (pass --no-netns to say so).");
            return null;
        }

        NetworkLab lab;
        try
        {
            var removed = await NetworkLab.RemoveLeftoversAsync();
            if (removed > 0)
            {
                Console.WriteLine($"Removed {removed} network namespace(s) left by chaos runs that no longer run.");
            }

            lab = await NetworkLab.CreateAsync(Environment.ProcessId);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            Console.WriteLine($"Network faults are off: the network lab could not be built ({ex.Message.Split('\n')[0]}).");
            await NetworkLab.Attach(Environment.ProcessId).TearDownAsync();
            return null;
        }

        try
        {
            return await RunInsideAsync(lab, args);
        }
        finally
        {
            await lab.TearDownAsync();
        }
    }

    private static async Task<int> RunInsideAsync(NetworkLab lab, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(lab.Launcher(LabNames.Controller)[0]) { UseShellExecute = false };
        foreach (var argument in lab.Launcher(LabNames.Controller).Skip(1).Concat([Environment.ProcessPath ?? "dotnet", typeof(LabSupervisor).Assembly.Location]).Concat(args))
        {
            info.ArgumentList.Add(argument);
        }

        if (Path.GetFileNameWithoutExtension(info.ArgumentList[2]) != "dotnet")
        {
            // Started through the app host: it takes no assembly path.
            info.ArgumentList.RemoveAt(3);
        }

        info.Environment[NetworkLab.LabVariable] = lab.Id.ToString(CultureInfo.InvariantCulture);
        using var child = Process.Start(info) ?? throw new InvalidOperationException("Could not start the chaos run inside its network namespace.");

        // Ctrl+C reaches the whole process group; SIGTERM only us. Either way the run inside is told,
        // and this process stays to tear the lab down once it has gone.
        void Forward(PosixSignalContext context)
        {
            context.Cancel = true;
            var signal = context.Signal == PosixSignal.SIGINT ? "-INT" : "-TERM";
            _ = ProcessRunner.RunAsync("kill", [signal, child.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        }

        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);
        await child.WaitForExitAsync();
        return child.ExitCode;
    }
}
