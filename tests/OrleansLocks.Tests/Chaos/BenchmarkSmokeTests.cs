using Xunit.Abstractions;

namespace OrleansLocks.Tests.Chaos;

/// <summary>
/// The benchmark program (tests/OrleansLocks.Benchmarks) in its seconds-long --quick form, so that it
/// never rots: every subject and scenario runs end to end on a real PostgreSQL and real silos. Timing
/// targets are the real run's business (docs/benchmarks.md), never asserted here.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class BenchmarkSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task QuickBenchmark_RunsEverySubjectAndScenario()
    {
        var report = Path.Combine(Path.GetTempPath(), $"orleanslocks-bench-{Guid.NewGuid():N}.md");
        var console = await ProcessRunner.RunAsync("dotnet", [BenchmarkAssemblyPath(), "--quick", "--out", report], TimeSpan.FromMinutes(5));
        output.WriteLine(console);

        var summary = await File.ReadAllTextAsync(report);
        foreach (var subject in new[] { "OrleansLocks (PostgreSQL)", "OrleansLocks co-hosted (PostgreSQL)", "OrleansLocks (in-memory)", "Synapse SQL (Npgsql)", "DistributedLock.Postgres" })
        {
            Assert.Contains($"| {subject} |", summary, StringComparison.Ordinal);
        }

        foreach (var scenario in new[] { "## Uncontended acquire + release", "## Try-acquire on a held lock", "## IsStillValid", "## Renew", "## Hand-off to a waiter", "waiters draining one lock", "## Memory per held lock", "## Targets" })
        {
            Assert.Contains(scenario, summary, StringComparison.Ordinal);
        }
    }

    private static string BenchmarkAssemblyPath() => BuiltProgram.PathOf("tests/OrleansLocks.Benchmarks", "OrleansLocks.Benchmarks.dll");
}
