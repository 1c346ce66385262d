using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>
/// Records what the OrleansLocks meter of the given hosts measures (through a real
/// <see cref="MeterListener"/>, so the instruments are enabled as an exporter would enable them) and
/// every span of the OrleansLocks and Orleans activity sources that stops while it listens.
/// </summary>
/// <remarks>
/// Meters are told apart by the host's <see cref="IMeterFactory"/> (their scope), so measurements of
/// other clusters running at the same time are left out. Spans are not: filter them by lock name.
/// </remarks>
internal sealed class TelemetryRecorder : IDisposable
{
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _spans;
    private readonly HashSet<object> _scopes;
    private readonly ConcurrentQueue<Recorded> _measurements = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public TelemetryRecorder(params IServiceProvider[] hosts)
    {
        _scopes = hosts.Select(h => (object)h.GetRequiredService<IMeterFactory>()).ToHashSet();
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == OrleansLocksTelemetry.MeterName && instrument.Meter.Scope is { } scope && _scopes.Contains(scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.Start();

        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == OrleansLocksTelemetry.ActivitySourceName || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_spans);
    }

    /// <summary>Every measurement recorded so far.</summary>
    public IReadOnlyList<Recorded> All => [.. _measurements];

    /// <summary>Every span that stopped so far.</summary>
    public IReadOnlyList<Activity> Spans => [.. _stopped];

    /// <summary>The measurements of <paramref name="instrument"/>, of lock <paramref name="lockName"/> when given.</summary>
    public IReadOnlyList<Recorded> Of(string instrument, string? lockName = null) =>
        [.. _measurements.Where(m => m.Instrument == instrument && (lockName is null || Equals(m.Tag("orleanslocks.lock.name"), lockName)))];

    /// <summary>The sum of the measurements of a counter, of lock <paramref name="lockName"/> when given.</summary>
    public double Sum(string instrument, string? lockName = null) => Of(instrument, lockName).Sum(m => m.Value);

    /// <summary>Asks the observable instruments for their value now; returns what each host's instance reported.</summary>
    public IReadOnlyList<Recorded> Observe(string instrument)
    {
        var before = _measurements.Count;
        _meters.RecordObservableInstruments();
        return [.. _measurements.Skip(before).Where(m => m.Instrument == instrument)];
    }

    public void Dispose()
    {
        _meters.Dispose();
        _spans.Dispose();
    }

    private void Add<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Recorded(instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), copy, instrument.Meter.Scope));
    }

    /// <summary>One measurement: the instrument, the value, its tags, and which host's meter recorded it.</summary>
    public sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags, object? Scope)
    {
        public object? Tag(string key) => Tags.TryGetValue(key, out var value) ? value : null;
    }
}
