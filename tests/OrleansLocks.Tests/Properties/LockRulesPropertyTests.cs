using System.Text.RegularExpressions;
using CsCheck;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Properties;

/// <summary>
/// Property-based tests of one lock's rules (<see cref="LeaseBook"/>, <see cref="WaiterLine"/> and the
/// <see cref="LockLedger"/> that combines them, driven as a lock grain drives them): CsCheck generates
/// sequences of steps (see <see cref="LockStep"/>) and <see cref="LockRulesDriver"/> checks the
/// invariants after every step. A failure names the broken invariant and its step, and CsCheck shrinks
/// the sequence to a short one that still fails and prints it with the seed that replays it
/// (set the environment variable <c>CsCheck_Seed</c> to that seed).
/// </summary>
public sealed partial class LockRulesPropertyTests
{
    /// <summary>Sequences of steps for a lock of <paramref name="shape"/>.</summary>
    internal static Gen<LockStep[]> Steps(LockShape shape, int maxSteps = 60)
    {
        var kinds = LockRulesDriver.KindsOf(shape);
        var kind = Gen.OneOf(kinds);
        var id = Gen.Int[0, LockRulesDriver.IdPool - 1];

        // Picks past the tokens issued so far (a run issues a few dozen at most) mean a token never issued.
        var token = Gen.Int[0, 24];
        var step = Gen.Frequency(
            (6, Gen.Select(kind, Gen.Int[-1, LockRulesDriver.IdPool - 1], (k, a) => new LockStep(LockStepKind.TryAcquire, k, a, 0, 0))),
            (6, Gen.Select(kind, id, (k, w) => new LockStep(LockStepKind.Wait, k, w, 0, 0))),
            (3, token.Select(t => new LockStep(LockStepKind.Confirm, default, 0, t, 0))),
            (4, token.Select(t => new LockStep(LockStepKind.Release, default, 0, t, 0))),
            (3, token.Select(t => new LockStep(LockStepKind.Renew, default, 0, t, 0))),
            (2, token.Select(t => new LockStep(LockStepKind.IsStillValid, default, 0, t, 0))),
            (2, id.Select(w => new LockStep(LockStepKind.StopWaiting, default, w, 0, 0))),
            (3, Gen.Const(new LockStep(LockStepKind.Due, default, 0, 0, 0))),
            (1, Gen.Select(token, Gen.Long[0, LockRulesDriver.LeaseMs], (t, ms) => new LockStep(LockStepKind.ForceOut, default, 0, t, ms))),
            (4, Gen.Long[1, 2 * LockRulesDriver.LeaseMs].Select(ms => new LockStep(LockStepKind.Advance, default, 0, 0, ms))),
            (2, Gen.Long[-1, 1].Select(ms => new LockStep(LockStepKind.AdvanceToExpiry, default, 0, 0, ms))),
            (shape == LockShape.ReadWrite ? 2 : 0, token.Select(t => new LockStep(LockStepKind.TryUpgrade, default, 0, t, 0))));
        return step.Array[1, maxSteps];
    }

    /// <summary>
    /// How many sequences each property runs: <c>ORLEANSLOCKS_PROPERTY_ITERATIONS</c> when set (for a
    /// longer search), else <paramref name="ciDefault"/>, which keeps the Properties folder within its minute.
    /// </summary>
    internal static long Iterations(long ciDefault) =>
        long.TryParse(Environment.GetEnvironmentVariable("ORLEANSLOCKS_PROPERTY_ITERATIONS"), out var n) && n > 0 ? n : ciDefault;

    internal static string Print(LockStep[] steps) => $"{steps.Length} steps: {string.Join(", ", steps)}";

    [Fact]
    public void RandomStepsOnAPlainLock_KeepEveryInvariant() =>
        Steps(LockShape.Plain).Sample(steps => LockRulesDriver.RunAll(LockShape.Plain, steps), iter: Iterations(2_000), print: Print);

    [Fact]
    public void RandomStepsOnAReadWriteLock_KeepEveryInvariant() =>
        Steps(LockShape.ReadWrite).Sample(steps => LockRulesDriver.RunAll(LockShape.ReadWrite, steps), iter: Iterations(2_000), print: Print);

    [Fact]
    public void RandomStepsOnASemaphore_KeepEveryInvariant() =>
        Steps(LockShape.Semaphore).Sample(steps => LockRulesDriver.RunAll(LockShape.Semaphore, steps), iter: Iterations(2_000), print: Print);

    [Fact]
    public void APlantedBug_IsFound_AndShrunkToAShortSequence()
    {
        // A broken copy of the grant rule, for this test only: a reader is let in beside a live writer.
        static bool ReadersIgnoreTheWriter(LockState state, LockKind kind, long now, bool anyoneWaiting) =>
            kind == LockKind.Read
                ? !anyoneWaiting && now >= (state.NoGrantsBefore ?? 0) && (state.Readers?.Count(r => r.IsLiveAt(now)) ?? 0) < IReadWriteLockGrain.MaxReaders
                : LeaseBook.CanGrantNow(state, kind, now, anyoneWaiting);

        var failure = Assert.Throws<CsCheckException>(() =>
            Steps(LockShape.ReadWrite).Sample(steps => LockRulesDriver.RunAll(LockShape.ReadWrite, steps, ReadersIgnoreTheWriter), iter: 50_000, print: Print));

        // CsCheck reports the smallest failing sequence it found, printed by Print, with the seed that replays it.
        Assert.Contains("CsCheck_Seed", failure.Message, StringComparison.Ordinal);
        Assert.True(failure.ToString().Contains("writer holds beside a reader", StringComparison.Ordinal), failure.ToString());
        var shrunk = int.Parse(StepCount().Match(failure.Message).Groups[1].Value);
        Assert.InRange(shrunk, 2, 3);
    }

    [GeneratedRegex(@"(\d+) steps: ")]
    private static partial Regex StepCount();
}
