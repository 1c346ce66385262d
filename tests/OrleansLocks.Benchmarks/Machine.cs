using System.Diagnostics;
using System.Globalization;

namespace OrleansLocks.Benchmarks;

/// <summary>CPU time and memory of the processes a measurement involves, read from /proc (Linux).</summary>
internal static class Machine
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>
    /// CPU seconds used so far, per process: this one, the given ones, and the PostgreSQL server
    /// <paramref name="postmaster"/> with its backends. Compare two snapshots with <see cref="CpuSecondsBetween"/>.
    /// </summary>
    public static Dictionary<int, double> CpuSnapshot(IEnumerable<int> processIds, int postmaster)
    {
        var snapshot = new Dictionary<int, double> { [Environment.ProcessId] = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds };
        foreach (var pid in processIds.Concat(PostgresProcessIds(postmaster)).Distinct())
        {
            snapshot[pid] = ProcessCpuSeconds(pid);
        }

        return snapshot;
    }

    /// <summary>
    /// CPU seconds used between two snapshots: by the processes alive at the end (a process born in
    /// between counts whole). A backend that ended in between is not counted, so this can only be low.
    /// </summary>
    public static double CpuSecondsBetween(Dictionary<int, double> before, Dictionary<int, double> after) =>
        after.Sum(p => Math.Max(0, p.Value - before.GetValueOrDefault(p.Key)));

    /// <summary>
    /// CPU seconds the whole machine has been busy so far (all processes, from /proc/stat): compared with
    /// the processes a measurement involves, it shows whether something else ran meanwhile.
    /// </summary>
    public static double MachineBusySeconds()
    {
        // cpu  user nice system idle iowait irq softirq steal ...
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>Resident memory of a process in bytes (VmRSS).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb * 1024;
            }
        }

        return 0;
    }

    public static string Describe()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "Linux"
            : "Linux";
        return $"{Environment.ProcessorCount} cores ({cpu}), {long.Parse(memKb, CultureInfo.InvariantCulture) / 1024 / 1024.0:F0} GiB, {os}, .NET {Environment.Version}";
    }

    private static double ProcessCpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // Fields after the command (which is in parentheses and may contain spaces): utime is
            // the 14th field of the line, stime the 15th.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0; // the process ended
        }
    }

    private static IEnumerable<int> PostgresProcessIds(int postmaster)
    {
        yield return postmaster;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                string? parent = null;
                try
                {
                    parent = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }

                if (parent is not null && int.Parse(parent["PPid:".Length..].Trim(), CultureInfo.InvariantCulture) == postmaster)
                {
                    yield return pid;
                }
            }
        }
    }
}
