using System.Diagnostics;
using System.Diagnostics.Metrics;
using OrleansLocks.Diagnostics;

namespace OrleansLocks.Client.Diagnostics;

/// <summary>
/// The client side's instruments (meter <see cref="OrleansLocksTelemetry.MeterName"/>) and spans
/// (activity source <see cref="OrleansLocksTelemetry.ActivitySourceName"/>): one per client, made
/// from the host's <see cref="IMeterFactory"/>. Every record is skipped when nobody listens.
/// </summary>
/// <remarks>Tags carry a lock's name and kind, never its key, the owner or a token.</remarks>
internal sealed class LockClientInstruments
{
    /// <summary>The client's spans: acquire (with its wait), renew and release.</summary>
    internal static readonly ActivitySource Source = new(OrleansLocksTelemetry.ActivitySourceName, typeof(LockClientInstruments).Assembly.GetName().Version?.ToString());

    private readonly TimeProvider _time;
    private readonly Histogram<double> _acquireDuration;
    private readonly UpDownCounter<long> _held;
    private readonly Histogram<double> _holdDuration;
    private readonly Counter<long> _lost;
    private readonly Counter<long> _abandoned;
    private readonly Counter<long> _retries;

    public LockClientInstruments(IMeterFactory meters, TimeProvider time)
    {
        _time = time;
        var meter = meters.Create(OrleansLocksTelemetry.MeterName);
        _acquireDuration = meter.CreateHistogram<double>(
            "orleanslocks.acquire.duration", "s", "How long acquires took, waits included, by mode (try, wait, multi) and outcome (acquired, held, timeout, cancelled, error).");
        _held = meter.CreateUpDownCounter<long>("orleanslocks.held", "{lock}", "Locks this client holds now.");
        _holdDuration = meter.CreateHistogram<double>(
            "orleanslocks.hold.duration", "s", "How long locks were held, by how the hold ended (released, lost, abandoned).");
        _lost = meter.CreateCounter<long>(
            "orleanslocks.lost", "{lock}", "Leases this client lost, by reason (refused: a renewal was answered lost; no_renewal_in_time: no renewal succeeded before the deadline).");
        _abandoned = meter.CreateCounter<long>(
            "orleanslocks.abandoned", "{lock}", "Handles that were garbage-collected without being released (a bug in the code that took them).");
        _retries = meter.CreateCounter<long>(
            "orleanslocks.retries", "{retry}", "Calls to a lock retried after a transient fault, by operation.");
    }

    /// <summary>Whether an acquire is worth measuring: someone listens to its duration or its span.</summary>
    public bool ObservesAcquires => _acquireDuration.Enabled || Source.HasListeners();

    /// <summary>The client's clock, for durations.</summary>
    public TimeProvider Time => _time;

    /// <summary>Starts measuring an acquire; <paramref name="name"/> and <paramref name="kind"/> are null for a multi-lock acquire of mixed locks.</summary>
    public AcquireMeasurement StartAcquire(string? name, string? kind, string mode)
    {
        var activity = Source.StartActivity("orleanslocks.acquire");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TelemetryTags.LockName, name);
            activity.SetTag(TelemetryTags.LockKind, kind);
            activity.SetTag(TelemetryTags.Mode, mode);
        }

        return new AcquireMeasurement(this, activity, _time.GetTimestamp(), name, kind, mode);
    }

    /// <summary>A lease is now held by this client.</summary>
    public void HoldStarted(LockId id, LockKind kind)
    {
        // Not guarded by Enabled: a listener that came between a hold's start and end would see it end
        // without having started, and its count would drift below zero.
        _held.Add(1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)));
    }

    /// <summary>A lease this client held ended (<paramref name="end"/>: released, lost or abandoned), held since <paramref name="heldSince"/>.</summary>
    public void HoldEnded(LockId id, LockKind kind, long heldSince, string end)
    {
        _held.Add(-1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)));
        if (_holdDuration.Enabled)
        {
            _holdDuration.Record(
                _time.GetElapsedTime(heldSince).TotalSeconds,
                new(TelemetryTags.LockName, id.Name),
                new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)),
                new(TelemetryTags.End, end));
        }
    }

    /// <summary>A lease held since <paramref name="heldSince"/> was lost (<paramref name="reason"/>: see <see cref="LostReason"/>): counted, and its hold ends.</summary>
    public void LeaseLost(LockId id, LockKind kind, long heldSince, string reason)
    {
        if (_lost.Enabled)
        {
            _lost.Add(1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)), new(TelemetryTags.Reason, reason));
        }

        HoldEnded(id, kind, heldSince, HoldEnd.Lost);
    }

    /// <summary>A handle was collected without being released.</summary>
    public void Abandoned(LockId id, LockKind kind)
    {
        if (_abandoned.Enabled)
        {
            _abandoned.Add(1, new(TelemetryTags.LockName, id.Name), new(TelemetryTags.LockKind, TelemetryTags.KindValue(kind)));
        }
    }

    /// <summary>A call of <paramref name="operation"/> to lock <paramref name="id"/> is retried after a transient fault.</summary>
    public void Retried(string operation, LockId id)
    {
        if (_retries.Enabled)
        {
            _retries.Add(1, new(TelemetryTags.Operation, operation), new(TelemetryTags.LockName, id.Name));
        }
    }

    /// <summary>Starts a span for a call on a held lease (renew, release); null when nobody listens.</summary>
    public static Activity? StartLeaseCall(string operation, LockId id, LockKind kind, long fencingToken)
    {
        var activity = Source.StartActivity(operation);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TelemetryTags.LockName, id.Name);
            activity.SetTag(TelemetryTags.LockKind, TelemetryTags.KindValue(kind));
            activity.SetTag(TelemetryTags.FencingToken, fencingToken);
        }

        return activity;
    }

    /// <summary>Ends a span from <see cref="StartLeaseCall"/> with its outcome.</summary>
    public static void EndLeaseCall(Activity? activity, string outcome, Exception? error = null)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(TelemetryTags.Outcome, outcome);
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
        }

        activity.Dispose();
    }

    /// <summary>Records one acquire's duration and ends its span.</summary>
    internal void RecordAcquire(Activity? activity, long startedAt, string? name, string? kind, string mode, string outcome, long? fencingToken, Exception? error)
    {
        if (_acquireDuration.Enabled)
        {
            var tags = new TagList
            {
                { TelemetryTags.Mode, mode },
                { TelemetryTags.Outcome, outcome },
            };
            if (name is not null)
            {
                tags.Add(TelemetryTags.LockName, name);
            }

            if (kind is not null)
            {
                tags.Add(TelemetryTags.LockKind, kind);
            }

            _acquireDuration.Record(_time.GetElapsedTime(startedAt).TotalSeconds, tags);
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag(TelemetryTags.Outcome, outcome);
        if (fencingToken is { } token)
        {
            activity.SetTag(TelemetryTags.FencingToken, token);
        }

        if (error is not null && outcome == AcquireOutcome.Error)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
        }

        activity.Dispose();
    }
}

/// <summary>The values of <see cref="TelemetryTags.Mode"/>.</summary>
internal static class AcquireMode
{
    public const string Try = "try";
    public const string Wait = "wait";
    public const string Multi = "multi";
}

/// <summary>The values of <see cref="TelemetryTags.Outcome"/> on an acquire.</summary>
internal static class AcquireOutcome
{
    public const string Acquired = "acquired";
    public const string Held = "held";
    public const string Timeout = "timeout";
    public const string Cancelled = "cancelled";
    public const string Error = "error";

    /// <summary>What a failed acquire's exception says about how it ended.</summary>
    public static string Of(Exception ex) => ex switch
    {
        TimeoutException => Timeout,
        OperationCanceledException => Cancelled,
        _ => Error,
    };
}

/// <summary>One acquire being measured (its start, its span); ended once by <see cref="End"/> or <see cref="Fail"/>.</summary>
internal readonly struct AcquireMeasurement(LockClientInstruments instruments, Activity? activity, long startedAt, string? name, string? kind, string mode)
{
    /// <summary>The acquire answered: <paramref name="fencingToken"/> when granted, null when the lock was held.</summary>
    public void End(long? fencingToken) =>
        instruments.RecordAcquire(activity, startedAt, name, kind, mode, fencingToken is null ? AcquireOutcome.Held : AcquireOutcome.Acquired, fencingToken, null);

    /// <summary>The acquire threw <paramref name="ex"/> (a timeout, a cancellation or an error).</summary>
    public void Fail(Exception ex) =>
        instruments.RecordAcquire(activity, startedAt, name, kind, mode, AcquireOutcome.Of(ex), null, ex);
}

/// <summary>The values of <see cref="TelemetryTags.End"/>.</summary>
internal static class HoldEnd
{
    public const string Released = "released";
    public const string Lost = "lost";
    public const string Abandoned = "abandoned";
}

/// <summary>The values of <see cref="TelemetryTags.Reason"/> on <c>orleanslocks.lost</c>.</summary>
internal static class LostReason
{
    /// <summary>A renewal was answered: this lease is no longer held.</summary>
    public const string Refused = "refused";

    /// <summary>No renewal succeeded before the lease's deadline on the client's clock.</summary>
    public const string NoRenewalInTime = "no_renewal_in_time";
}
