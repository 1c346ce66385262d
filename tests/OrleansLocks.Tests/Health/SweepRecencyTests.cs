using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Grains.Health;

namespace OrleansLocks.Tests.Health;

/// <summary>The sweep check's rule over the sweeper's record, on a fake clock.</summary>
public sealed class SweepRecencyTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void ASweeperWithNoSweepYet_IsHealthyUntilTwiceTheIntervalHasPassed_ThenNot()
    {
        var history = new SweepHistory(_clock.GetUtcNow());

        _clock.Advance(Interval * 2);
        var (early, earlyWords) = SweepRecency.Evaluate(history.Snapshot(), Interval, _clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromSeconds(1));
        var (late, lateWords) = SweepRecency.Evaluate(history.Snapshot(), Interval, _clock.GetUtcNow());

        Assert.True(early, earlyWords);
        Assert.Contains("No sweep has run yet", earlyWords, StringComparison.Ordinal);
        Assert.False(late, lateWords);
        Assert.Contains("No sweep succeeded since 2026-01-01T00:00:00.0000000+00:00", lateWords, StringComparison.Ordinal);
    }

    [Fact]
    public void ASweepThatSucceededWithinTwiceTheInterval_IsHealthy_AndOneOlderIsNot()
    {
        var history = new SweepHistory(_clock.GetUtcNow());
        _clock.Advance(Interval);
        history.Succeeded(_clock.GetUtcNow());

        _clock.Advance(Interval * 2);
        var (within, withinWords) = SweepRecency.Evaluate(history.Snapshot(), Interval, _clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromSeconds(1));
        var (beyond, beyondWords) = SweepRecency.Evaluate(history.Snapshot(), Interval, _clock.GetUtcNow());

        Assert.True(within, withinWords);
        Assert.False(beyond, beyondWords);
        Assert.Contains("the last success was at 2026-01-01T00:05:00.0000000+00:00", beyondWords, StringComparison.Ordinal);
    }

    [Fact]
    public void FailedSweeps_WithoutASuccess_TurnTheCheckUnhealthy_NamingTheLastFailure()
    {
        var history = new SweepHistory(_clock.GetUtcNow());
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(Interval);
            history.Failed(_clock.GetUtcNow(), new TimeoutException("no answer"));
        }

        var (healthy, words) = SweepRecency.Evaluate(history.Snapshot(), Interval, _clock.GetUtcNow());

        Assert.False(healthy, words);
        Assert.Contains("the last failure was at 2026-01-01T00:15:00.0000000+00:00 (TimeoutException", words, StringComparison.Ordinal);
        Assert.DoesNotContain("no answer", words, StringComparison.Ordinal);
    }

    [Fact]
    public void ASuccessAfterAFailure_MakesTheCheckHealthyAgain()
    {
        var history = new SweepHistory(_clock.GetUtcNow());
        _clock.Advance(Interval * 3);
        history.Failed(_clock.GetUtcNow(), new InvalidOperationException());
        Assert.False(SweepRecency.Evaluate(history.Snapshot(), Interval, _clock.GetUtcNow()).Healthy);

        _clock.Advance(Interval);
        history.Succeeded(_clock.GetUtcNow());

        Assert.True(SweepRecency.Evaluate(history.Snapshot(), Interval, _clock.GetUtcNow()).Healthy);
    }
}
