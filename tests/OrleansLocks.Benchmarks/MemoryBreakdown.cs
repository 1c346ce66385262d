using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;

namespace OrleansLocks.Benchmarks;

/// <summary>
/// Where the memory of a held lock goes: managed heap per activation in a silo hosted in this
/// process (same Orleans, same lock grains, same PostgreSQL storage as the Silo host), for an
/// empty grain, a free lock grain, and a held one. The differences split a held lock into Orleans'
/// activation and our own part (the grain, its state and its entry in the silo's expiry schedule).
/// A held lock has no grain timer: the silo's one schedule frees it at its expiry.
/// </summary>
internal static class MemoryBreakdown
{
    public static async Task<string> MeasureAsync(string connectionString, int count)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(FreePortPair.Silo, FreePortPair.Gateway, serviceId: "breakdown", clusterId: "breakdown");
            silo.AddOrleansLocks().UsePostgres(connectionString);
            silo.UseInMemoryReminderService();
        });
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var rows = new List<(string What, double Bytes)>
        {
            ("an empty grain's activation", await PerActivationAsync(count, i => grains.GetGrain<IEmptyBenchGrain>($"{run}-e{i}").Ping())),
            ("a free lock (activated by GetInfo)", await PerActivationAsync(count, i => grains.GetGrain<ILockGrain>(LockId.Create("free", $"{run}-{i}").ToGrainKey()).GetInfo())),
            ("a held lock (TryAcquire)", await PerActivationAsync(count, async i =>
            {
                if (await grains.GetGrain<ILockGrain>(LockId.Create("held", $"{run}-{i}").ToGrainKey()).TryAcquire("memory") is null)
                {
                    throw new InvalidOperationException("A fresh lock was held.");
                }
            })),
        };
        await host.StopAsync();

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Managed heap per activation, {count:N0} activations each, in a silo hosted in the benchmark process (PostgreSQL storage):");
        text.AppendLine();
        text.AppendLine("| activation | bytes |");
        text.AppendLine("|---|---|");
        foreach (var (what, bytes) in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {what} | {bytes:F0} |");
        }

        var (empty, held) = (rows[0].Bytes, rows[2].Bytes);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Of a held lock's {held:F0} B: Orleans' activation {empty:F0} B; the lock grain, its state and its expiry schedule entry {held - empty:F0} B.");
        return text.ToString();
    }

    private static async Task<double> PerActivationAsync(int count, Func<int, Task> activate)
    {
        // Warm up first (code paths, connection pools, caches), with ids the measurement does not use.
        await Task.WhenAll(Enumerable.Range(1, 256).Select(i => activate(-i)));
        var before = SettledHeap();
        for (var i = 0; i < count; i += 256)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(256, count - i)).Select(activate));
        }

        return (SettledHeap() - before) / (double)count;
    }

    private static long SettledHeap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static class FreePortPair
    {
        public static readonly int Silo = Testing.FreePort.Next();
        public static readonly int Gateway = Testing.FreePort.Next();
    }
}

/// <summary>The smallest grain there is, for the breakdown's baseline.</summary>
public interface IEmptyBenchGrain : IGrainWithStringKey
{
    Task Ping();
}

internal sealed class EmptyBenchGrain : Grain, IEmptyBenchGrain
{
    public Task Ping() => Task.CompletedTask;
}
