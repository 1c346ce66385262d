using System.Globalization;

namespace OrleansLocks.Grains.Health;

/// <summary>
/// The sweep check's rule: the sweep is healthy when it succeeded within twice its interval, or when
/// the record is younger than that (a cluster, or a sweeper activation, that just started has not
/// had its first sweep yet). Plain code, unit-tested without a cluster.
/// </summary>
internal static class SweepRecency
{
    /// <summary>Whether <paramref name="record"/> is recent enough at <paramref name="now"/>, and what to say about it.</summary>
    public static (bool Healthy, string Description) Evaluate(SweepRecord record, TimeSpan interval, DateTimeOffset now)
    {
        var allowed = interval * 2;
        var failure = record.LastFailure is { } failedAt
            ? $"; the last failure was at {Format(failedAt)} ({record.LastFailureKind}, see the log of the silo that ran it, event 1021)"
            : "";
        if (record.LastSuccess is { } succeededAt)
        {
            return now - succeededAt <= allowed
                ? (true, $"The last sweep succeeded at {Format(succeededAt)}, within twice the sweep interval ({allowed.ToString("c", CultureInfo.InvariantCulture)}){failure}.")
                : (false, $"No sweep succeeded within twice the sweep interval ({allowed.ToString("c", CultureInfo.InvariantCulture)}): the last success was at {Format(succeededAt)}{failure}.");
        }

        return now - record.Since <= allowed
            ? (true, $"No sweep has run yet since {Format(record.Since)}; the first is due within the sweep interval{failure}.")
            : (false, $"No sweep succeeded since {Format(record.Since)}, more than twice the sweep interval ({allowed.ToString("c", CultureInfo.InvariantCulture)}) ago{failure}.");
    }

    private static string Format(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);
}
