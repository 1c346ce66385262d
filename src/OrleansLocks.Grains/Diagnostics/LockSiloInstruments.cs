using System.Diagnostics;
using System.Diagnostics.Metrics;
using OrleansLocks.Diagnostics;

namespace OrleansLocks.Grains.Diagnostics;

/// <summary>
/// The silo side's instruments (meter <see cref="OrleansLocksTelemetry.MeterName"/>) and storage
/// spans (activity source <see cref="OrleansLocksTelemetry.ActivitySourceName"/>): one object per
/// silo, made from the host's <see cref="IMeterFactory"/> and shared by every lock activation (they
/// keep no field for it: memory per held lock counts). Every record is skipped when nobody listens.
/// </summary>
/// <remarks>
/// Orleans records storage metrics and spans only on the <c>IPersistentState</c> path, which the
/// lock grains bypass, so these are the only record of lock storage. Tags carry a lock's name and
/// kind, never its key, an owner or a token.
/// </remarks>
internal sealed class LockSiloInstruments
{
    /// <summary>The silo's spans: one per storage write.</summary>
    internal static readonly ActivitySource Source = new(OrleansLocksTelemetry.ActivitySourceName, typeof(LockSiloInstruments).Assembly.GetName().Version?.ToString());

    private readonly TimeProvider _time;
    private readonly Counter<long> _grants;
    private readonly Counter<long> _expirations;
    private readonly Histogram<double> _handoffDuration;
    private readonly Histogram<double> _storageDuration;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _waiterTimeouts;
    private readonly Counter<long> _sweepRuns;
    private readonly Counter<long> _sweepFreed;

    // Waiters in line across this silo's activations: each activation reports its changes.
    private long _waiting;

    public LockSiloInstruments(IMeterFactory meters, TimeProvider time)
    {
        _time = time;
        var meter = meters.Create(OrleansLocksTelemetry.MeterName);
        _grants = meter.CreateCounter<long>("orleanslocks.grants", "{grant}", "Locks granted, by path (try: at once; wait: to a waiter in line).");
        _expirations = meter.CreateCounter<long>("orleanslocks.expirations", "{lease}", "Leases that ran out without renewal (their holder died or stalled).");
        meter.CreateObservableUpDownCounter("orleanslocks.waiters", () => Volatile.Read(ref _waiting), "{waiter}", "Waiters in line for locks activated in this silo.");
        _handoffDuration = meter.CreateHistogram<double>(
            "orleanslocks.handoff.duration", "s", "From a lock being freed (release, expiry, a grant taken back) to its next waiter's grant being stored.");
        _storageDuration = meter.CreateHistogram<double>(
            "orleanslocks.storage.operation.duration", "s", "Lock storage operations (read, write, clear), by outcome (ok, conflict, error).");
        _conflicts = meter.CreateCounter<long>(
            "orleanslocks.storage.conflicts", "{conflict}", "Writes refused because the stored version moved: a duplicate or stale activation (split brain). Alert on any.");
        _waiterTimeouts = meter.CreateCounter<long>(
            "orleanslocks.waiter.timeouts", "{waiter}", "Waiters dropped by the lock: grants never confirmed (taken back) and waiters that stopped calling.");
        _sweepRuns = meter.CreateCounter<long>("orleanslocks.sweep.runs", "{run}", "Runs of the sweep of stored locks, by outcome (ok, error).");
        _sweepFreed = meter.CreateCounter<long>("orleanslocks.sweep.freed", "{lock}", "Stored locks the sweep freed (expired) or cleared (free past the retention).");
    }

    /// <summary>Waiters in line now, across this silo (what the <c>orleanslocks.waiters</c> instrument reports).</summary>
    public long Waiting => Volatile.Read(ref _waiting);

    /// <summary>A lock was granted (<paramref name="path"/>: <see cref="GrantPath"/>).</summary>
    public void Granted(LockId id, LockKind kind, string path)
    {
        if (_grants.Enabled)
        {
            _grants.Add(1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)), new(TelemetryTags.Path, path));
        }
    }

    /// <summary>A lease of <paramref name="kind"/> ran out without renewal.</summary>
    public void Expired(LockId id, LockKind kind)
    {
        if (_expirations.Enabled)
        {
            _expirations.Add(1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)));
        }
    }

    /// <summary>Whether someone listens to hand-off durations (so the freeing instant is worth finding).</summary>
    public bool ObservesHandoffs => _handoffDuration.Enabled;

    /// <summary>A waiter's grant of <paramref name="kind"/> was stored, the lock having been free since <paramref name="freedAtMs"/> (silo clock, Unix milliseconds).</summary>
    public void HandedOff(LockId id, LockKind kind, long freedAtMs)
    {
        if (_handoffDuration.Enabled)
        {
            var seconds = Math.Max(0, (_time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(freedAtMs)).TotalSeconds);
            _handoffDuration.Record(seconds, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)));
        }
    }

    /// <summary>The line of one activation grew or shrank by <paramref name="delta"/>.</summary>
    public void WaitingChanged(int delta) => Interlocked.Add(ref _waiting, delta);

    /// <summary>A waiter was dropped (<paramref name="reason"/>: <see cref="WaiterTimeoutReason"/>).</summary>
    public void WaiterTimedOut(LockId id, string reason)
    {
        if (_waiterTimeouts.Enabled)
        {
            _waiterTimeouts.Add(1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.Reason, reason));
        }
    }

    /// <summary>A sweep run ended: <paramref name="freed"/> locks freed or cleared, or <paramref name="error"/>.</summary>
    public void Swept(int freed, Exception? error)
    {
        if (freed > 0 && _sweepFreed.Enabled)
        {
            _sweepFreed.Add(freed);
        }

        if (_sweepRuns.Enabled)
        {
            _sweepRuns.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Outcome, error is null ? "ok" : "error"));
        }
    }

    /// <summary>
    /// Starts measuring a storage operation (<see cref="StorageOperation"/>) of lock
    /// <paramref name="id"/>; a write gets a span, tagged with what it does (<paramref name="purpose"/>:
    /// acquire, renew, release, expire, clear).
    /// </summary>
    public StorageMeasurement StartStorage(string operation, string purpose, LockId id)
    {
        var activity = operation == StorageOperation.Read ? null : Source.StartActivity("orleanslocks.storage.write");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TelemetryTags.LockName, id.Name);
            activity.SetTag(TelemetryTags.Operation, purpose);
        }

        var startedAt = _storageDuration.Enabled || _conflicts.Enabled || activity is not null ? _time.GetTimestamp() : 0;
        return new StorageMeasurement(this, activity, startedAt, operation, id);
    }

    /// <summary>Ends a storage measurement: <paramref name="error"/> is null when it succeeded.</summary>
    internal void EndStorage(Activity? activity, long startedAt, string operation, LockId id, Exception? error)
    {
        var outcome = error switch
        {
            null => "ok",
            LockStorageException { IsVersionConflict: true } => "conflict",
            _ => "error",
        };
        if (outcome == "conflict" && _conflicts.Enabled)
        {
            _conflicts.Add(1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.Operation, operation));
        }

        if (_storageDuration.Enabled)
        {
            _storageDuration.Record(
                _time.GetElapsedTime(startedAt).TotalSeconds,
                new(TelemetryTags.LockName, id.Name),
                new(TelemetryTags.Operation, operation),
                new(TelemetryTags.Outcome, outcome));
        }

        if (activity is not null)
        {
            activity.SetTag(TelemetryTags.Outcome, outcome);
            if (error is not null)
            {
                activity.SetStatus(ActivityStatusCode.Error, outcome);
            }

            activity.Dispose();
        }
    }
}

/// <summary>One storage operation being measured; ended once by <see cref="End"/>.</summary>
internal readonly struct StorageMeasurement(LockSiloInstruments instruments, Activity? activity, long startedAt, string operation, LockId id)
{
    /// <summary>The operation ended: <paramref name="error"/> is null when it succeeded.</summary>
    public void End(Exception? error = null) => instruments.EndStorage(activity, startedAt, operation, id, error);
}

/// <summary>The storage operations of <c>orleanslocks.storage.operation.duration</c>.</summary>
internal static class StorageOperation
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Clear = "clear";
}

/// <summary>The values of <see cref="TelemetryTags.Path"/> on <c>orleanslocks.grants</c>.</summary>
internal static class GrantPath
{
    /// <summary>Granted at once to a try.</summary>
    public const string Try = "try";

    /// <summary>Granted to a waiter (at once when it joined an empty line of a free lock, or later in its turn).</summary>
    public const string Wait = "wait";
}

/// <summary>The values of <see cref="TelemetryTags.Reason"/> on <c>orleanslocks.waiter.timeouts</c>.</summary>
internal static class WaiterTimeoutReason
{
    /// <summary>Granted, but the waiter never confirmed in time: the grant was taken back.</summary>
    public const string UnconfirmedGrant = "unconfirmed_grant";

    /// <summary>The waiter stopped calling and was dropped from the line.</summary>
    public const string Silent = "silent";
}
