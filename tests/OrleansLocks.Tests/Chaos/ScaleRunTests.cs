using Xunit.Abstractions;

namespace OrleansLocks.Tests.Chaos;

/// <summary>
/// The bounded scale run CI makes: the chaos program's scale mode with PostgreSQL (fsync on), 3 Silo
/// processes and 3 client processes holding 3,000 locks through a kill -9 of the silo hosting most of
/// them, and 300 waiters draining the lines of 30 locks. The full size (100,000 locks, 10,000 waiters)
/// is the same program run by hand (see docs/safety.md).
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ScaleRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task HeldLocks_ThroughAKilledSilo_KeepTheirHolderAndFencingTokenAndRenew_AndWaitersDrainInOrder()
    {
        var report = Path.Combine(Path.GetTempPath(), $"orleanslocks-scale-{Guid.NewGuid():N}.md");
        string console;
        try
        {
            console = await ProcessRunner.RunAsync(
                "dotnet",
                [ChaosAssemblyPath(), "scale", "--locks", "3000", "--waiters", "300", "--waiter-locks", "30", "--clients", "3", "--lease", "60", "--renewal", "15", "--report", report],
                TimeSpan.FromMinutes(10));
        }
        catch (InvalidOperationException ex)
        {
            // A non-zero exit: violations (or a failure to run); the message quotes the program's output.
            Assert.Fail(ex.Message);
            throw;
        }

        output.WriteLine(console);
        var summary = await File.ReadAllTextAsync(report);
        File.Delete(report);
        Assert.Contains("Violations: 0", summary, StringComparison.Ordinal);
        Assert.Contains("Acquired 3,000 of 3,000 locks", summary, StringComparison.Ordinal);

        // The killed silo hosted locks, and each of them answered again, still held by its holder.
        Assert.Matches(@"\| on the killed silo \(asked first\) \| [1-9][0-9,]* \|", summary);
        Assert.Contains("Stored rows after the kill: 3,000 name the same holder token (by fingerprint) and fencing token as before the kill, 0 differ.", summary, StringComparison.Ordinal);
        Assert.Matches(@"Another client tried [0-9,]+ held locks \(all of the killed silo's, every tenth other\): [0-9,]+ answered held, 0 granted\.", summary);

        // Every handle renewed after the kill; none was lost or refused.
        Assert.Contains("Renewals", summary, StringComparison.Ordinal);
        Assert.Matches(@"3,000 handles renewed since the kill", summary);
        Assert.DoesNotMatch(@"stale=[1-9]|lost=[1-9]|calls-refused=[1-9]", summary);

        // Every waiter was granted once, in line order, and released.
        Assert.Contains("| waiters granted | 300 of 300 |", summary, StringComparison.Ordinal);
        Assert.Contains("| waiters that failed (error or timeout) | 0 |", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("(did not finish)", summary, StringComparison.Ordinal);
    }

    private static string ChaosAssemblyPath() => BuiltProgram.PathOf("tests/OrleansLocks.Chaos", "OrleansLocks.Chaos.dll");
}
