namespace OrleansLocks.Tests.Properties;

/// <summary>What a generated step does to one lock (see <see cref="LockRulesDriver"/>).</summary>
public enum LockStepKind
{
    /// <summary>TryAcquire of <see cref="LockStep.Kind"/> (with an attempt id from a small pool, or none).</summary>
    TryAcquire,

    /// <summary>A Wait call of waiter <see cref="LockStep.Id"/> for <see cref="LockStep.Kind"/>.</summary>
    Wait,

    /// <summary>ConfirmGrant of a token (an issued one, or one never issued).</summary>
    Confirm,

    /// <summary>Release of a token.</summary>
    Release,

    /// <summary>Renew of a token.</summary>
    Renew,

    /// <summary>IsStillValid of a token.</summary>
    IsStillValid,

    /// <summary>StopWaiting of waiter <see cref="LockStep.Id"/>.</summary>
    StopWaiting,

    /// <summary>The lock's due call: silent waiters are reaped, unconfirmed grants taken back, expired leases removed.</summary>
    Due,

    /// <summary>An operator's forced release of the holder of a token, with a lock-delay of <see cref="LockStep.Amount"/> ms.</summary>
    ForceOut,

    /// <summary>The clock moves by <see cref="LockStep.Amount"/> ms.</summary>
    Advance,

    /// <summary>The clock moves to the next expiry of a holder, plus <see cref="LockStep.Amount"/> ms (-1, 0 or 1: the boundary).</summary>
    AdvanceToExpiry,

    /// <summary>TryUpgrade of a token (to the write hold, for the upgradeable reader).</summary>
    TryUpgrade,

    /// <summary>A grain call (<see cref="LockStep.Id"/> picks which) with a malformed token or id (<see cref="LockStep.TokenPick"/> picks which).</summary>
    Malformed,
}

/// <summary>
/// One generated step. <see cref="Id"/> picks a waiter or attempt id from a small pool (so ids repeat,
/// and waiters that left come back); <see cref="TokenPick"/> picks an issued token, or a well-formed
/// token that was never issued when it is past the issued ones.
/// </summary>
/// <param name="Step">What the step does.</param>
/// <param name="Kind">The kind of hold, for TryAcquire and Wait.</param>
/// <param name="Id">The waiter (or attempt) id index; -1 for TryAcquire without an attempt id.</param>
/// <param name="TokenPick">Which token, for the token steps.</param>
/// <param name="Amount">Milliseconds, for Advance, AdvanceToExpiry and ForceOut.</param>
public sealed record LockStep(LockStepKind Step, LockKind Kind, int Id, int TokenPick, long Amount)
{
    /// <summary>A short form for failure reports, e.g. <c>TryAcquire(Write)</c> or <c>Release(#2)</c>.</summary>
    public override string ToString() => Step switch
    {
        LockStepKind.TryAcquire => Id < 0 ? $"TryAcquire({Kind})" : $"TryAcquire({Kind}, a{Id})",
        LockStepKind.Wait => $"Wait(w{Id}, {Kind})",
        LockStepKind.StopWaiting => $"StopWaiting(w{Id})",
        LockStepKind.Confirm or LockStepKind.Release or LockStepKind.Renew or LockStepKind.IsStillValid or LockStepKind.TryUpgrade => $"{Step}(#{TokenPick})",
        LockStepKind.ForceOut => $"ForceOut(#{TokenPick}, {Amount} ms)",
        LockStepKind.Advance => $"Advance({Amount} ms)",
        LockStepKind.AdvanceToExpiry => $"AdvanceToExpiry({Amount:+0;-0;0})",
        LockStepKind.Malformed => $"Malformed(call {Id}, input {TokenPick})",
        _ => Step.ToString(),
    };
}
