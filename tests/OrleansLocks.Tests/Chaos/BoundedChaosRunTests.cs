using Xunit.Abstractions;

namespace OrleansLocks.Tests.Chaos;

/// <summary>Runs alone: the chaos run's processes need the machine's CPU to keep their timers honest.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "chaos run (alone)";
}

/// <summary>
/// The bounded chaos run CI makes on every submission: the chaos program (tests/OrleansLocks.Chaos) with
/// a fixed seed, PostgreSQL, 3 Silo processes and 3 client processes, about a minute of faults with
/// at least one of each kind (including a kill -9 of PostgreSQL with fsync on, and a paused lock holder
/// whose late write PostgreSQL's fence must refuse), and its history checker. The long run is the same program, run by hand
/// (see docs/safety.md).
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class BoundedChaosRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BoundedChaosRun_WithEveryFaultKind_FindsNoViolation()
    {
        var report = Path.Combine(Path.GetTempPath(), $"orleanslocks-chaos-{Guid.NewGuid():N}.md");
        string console;
        try
        {
            console = await ProcessRunner.RunAsync(
                "dotnet",
                [ChaosAssemblyPath(), "--seed", "42", "--duration", "60", "--fault-interval", "7", "--report", report],
                TimeSpan.FromMinutes(20));
        }
        catch (InvalidOperationException ex)
        {
            // A non-zero exit: violations (or a failure to run); the message quotes the program's output.
            Assert.Fail(ex.Message);
            throw;
        }

        output.WriteLine(console);
        var summary = await File.ReadAllTextAsync(report);
        Assert.Contains("Violations: 0", summary, StringComparison.Ordinal);
        foreach (var kind in new[] { "kill-silo", "stop-silo", "pause-silo", "kill-client", "pg-restart", "pg-outage", "pg-crash", "pause-client", "partition-silo", "silo-db-cut", "client-cut", "one-way-loss", "clock-skew" })
        {
            Assert.Matches($@"\| {kind} \| [1-9]", summary);
        }

        // The paused holder woke after a newer holder had written: PostgreSQL's fence refused it.
        Assert.Matches(@"\| fenced writes refused as stale \(StaleFencingTokenException\) \| [1-9]", summary);
        Assert.Matches(@"\| fenced writes committed \(through PostgreSQL's fence\) \| [1-9]", summary);
        Assert.Contains("| stale writes accepted (violations) | 0 |", summary, StringComparison.Ordinal);
        Assert.Contains("| acknowledged state lost in pg-crash (violations) | 0 |", summary, StringComparison.Ordinal);
        Assert.Matches(@"pg-crash at [0-9.]+ s: recovered rows checked against [1-9]", summary);
        Assert.Matches(@"\| waiting acquire granted \| [1-9]", summary);
        Assert.Matches(@"\| try-acquire granted \| [1-9]", summary);

        // Every process ran in a network namespace of its own (CI runs as root), so the partitions (a silo from
        // the others, a silo from PostgreSQL, a client from its gateways) and the one-way loss were real.
        Assert.Contains("network faults on", summary, StringComparison.Ordinal);

        // The clock-skew fault stays below the clients' allowance here: no two holders may believe at once.
        Assert.Contains("| two holders believed at once, as a clock skew beyond the allowance predicts | 0 |", summary, StringComparison.Ordinal);
    }

    private static string ChaosAssemblyPath() => BuiltProgram.PathOf("tests/OrleansLocks.Chaos", "OrleansLocks.Chaos.dll");
}
