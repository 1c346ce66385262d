using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Hosting;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Storage;

namespace OrleansLocks.Benchmarks;

/// <summary>
/// The capacity of one PostgreSQL server for lock writes, without Orleans: N locks each renewed in a
/// loop (every write carries the version the previous one returned), written once through the
/// silo's group-commit writer and once one statement per write (the prepared versioned UPDATE the
/// per-write path amounts to), on the same server. For docs/scaling.md: writes per second, and how
/// many writes one commit carries as load grows.
/// </summary>
internal static class WriterCapacity
{
    private const string StateName = "orleanslocks.lock";

    public static async Task<string> RunAsync(string database, int[] inFlight, TimeSpan measure)
    {
        var tuned = OrleansLocksSiloBuilderExtensions.TunedForLocks(database);
        var payload = Encoding.UTF8.GetBytes(
            """{"name":"bench","key":"k","token":"0123456789abcdef0123456789abcdef","owner":"bench","acquiredAt":1,"lastRenewedAt":1,"expiresAt":2,"fencingToken":1,"freedAt":null,"acquireId":null}""");
        var report = new StringBuilder();
        report.AppendLine("| locks writing at once | group commit: writes/s | writes per commit | p50 ms | p99 ms | one statement per write: writes/s | p50 ms | p99 ms | group commit vs per write |");
        report.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var n in inFlight)
        {
            var serviceId = $"capacity-{n}-{Guid.NewGuid():N}";
            await using var writer = new GroupCommitLockWriter(tuned, serviceId, 256, NullLogger.Instance, new LockStorageOptions().MaxConcurrentBatches);
            var rows = Enumerable.Range(0, n).Select(i => LockRowKey.For(GrainId.Create(StateName, $"capacity:{i}"), StateName, serviceId)).ToArray();
            var versions = new int[n];
            for (var i = 0; i < n; i++)
            {
                versions[i] = (await writer.WriteAsync(rows[i], null, payload))!.Value;
            }

            var (batchesBefore, writesBefore) = (writer.Batches, writer.Writes);
            var grouped = await MeasureAsync(rows, versions, measure, async (row, version) => (await writer.WriteAsync(row, version, payload))!.Value);
            var perCommit = (double)(writer.Writes - writesBefore) / Math.Max(1, writer.Batches - batchesBefore);

            await using var source = NpgsqlDataSource.Create(tuned + $";Maximum Pool Size={Math.Max(n, 10)};Timeout=120");
            var single = await MeasureAsync(rows, versions, measure, async (row, version) =>
            {
                // The writer's own single-row statement, one per write on a pool: no queue, no batch.
                await using var command = source.CreateCommand(GroupCommitLockWriter.UpdateOneSql);
                GroupCommitLockWriter.AddOneWrite(command, row, version, payload);
                return (int)(await command.ExecuteScalarAsync())!;
            });
            report.AppendLine(CultureInfo.InvariantCulture, $"| {n} | {grouped.PerSecond:F0} | {perCommit:F1} | {grouped.P50:F2} | {grouped.P99:F2} | {single.PerSecond:F0} | {single.P50:F2} | {single.P99:F2} | **{grouped.PerSecond / single.PerSecond:F2}x** |");
        }

        return report.ToString();
    }

    /// <summary>Each row written in a loop for <paramref name="measure"/>, from its version in <paramref name="versions"/> (kept up to date).</summary>
    private static async Task<(double PerSecond, double P50, double P99)> MeasureAsync(LockRowKey[] rows, int[] versions, TimeSpan measure, Func<LockRowKey, int, Task<int>> write)
    {
        var latencies = new List<double>[rows.Length];
        using var stop = new CancellationTokenSource();
        var started = Stopwatch.GetTimestamp();
        var loops = rows.Select(async (row, i) =>
        {
            latencies[i] = [];
            while (!stop.IsCancellationRequested)
            {
                var sent = Stopwatch.GetTimestamp();
                versions[i] = await write(row, versions[i]);
                latencies[i].Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        }).ToArray();
        stop.CancelAfter(measure);
        await Task.WhenAll(loops);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return (all.Length / elapsed, all[all.Length / 2], all[(int)(all.Length * 0.99)]);
    }
}
