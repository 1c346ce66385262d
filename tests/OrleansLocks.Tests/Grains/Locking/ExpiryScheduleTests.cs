using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Grains.Locking;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>
/// The silo's expiry schedule without a cluster: a fake clock drives its one timer, and a recording
/// function stands in for the grain call.
/// </summary>
public sealed class ExpiryScheduleTests
{
    private readonly FakeTimeProvider _clock = new(LockCluster.Epoch);
    private readonly ConcurrentQueue<GrainId> _calls = new();

    private long Now => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public async Task ALock_IsCalledOnceAtItsDueTime()
    {
        using var schedule = Schedule(_ => Task.CompletedTask);
        var id = Lock("a");
        schedule.Set(id, Now + 1_000);

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(Now + 1, schedule.DueAt(id));
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        await Eventually.TrueAsync(() => _calls.Count == 1, "the lock was called at its due time");
        Assert.Equal([id], _calls);
        Assert.Null(schedule.DueAt(id));
    }

    [Fact]
    public async Task ARenewalThatMovesTheDueTimeLater_IsCalledOnlyAtTheNewTime()
    {
        using var schedule = Schedule(_ => Task.CompletedTask);
        var (renewed, other) = (Lock("renewed"), Lock("other"));
        schedule.Set(renewed, Now + 1_000);
        schedule.Set(renewed, Now + 5_000);
        schedule.Set(other, Now + 2_000);

        _clock.Advance(TimeSpan.FromSeconds(2));
        await Eventually.TrueAsync(() => _calls.Count == 1, "the other lock was called");
        Assert.Equal([other], _calls);

        _clock.Advance(TimeSpan.FromSeconds(3));
        await Eventually.TrueAsync(() => _calls.Count == 2, "the renewed lock was called at its new time");
        Assert.Equal([other, renewed], _calls);
    }

    [Fact]
    public async Task ALockWithNothingDue_IsNotCalled()
    {
        using var schedule = Schedule(_ => Task.CompletedTask);
        var (removed, marker) = (Lock("removed"), Lock("marker"));
        schedule.Set(removed, Now + 1_000);
        schedule.Remove(removed);
        schedule.Set(marker, Now + 2_000);

        _clock.Advance(TimeSpan.FromSeconds(2));

        await Eventually.TrueAsync(() => _calls.Count == 1, "the marker lock was called");
        Assert.Equal([marker], _calls);
        Assert.Equal(0, schedule.Count);
    }

    [Fact]
    public async Task ManyLocksDueInOneTick_AreCalledAtMostMaxConcurrentCallsAtATime()
    {
        var inFlight = 0;
        var most = 0;
        var answers = new ConcurrentQueue<TaskCompletionSource>();
        using var schedule = Schedule(
            async _ =>
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref most, now);
                var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                answers.Enqueue(answer);
                await answer.Task;
                Interlocked.Decrement(ref inFlight);
            },
            maxConcurrentCalls: 4);
        for (var i = 0; i < 100; i++)
        {
            schedule.Set(Lock($"l{i}"), Now + 1_000);
        }

        _clock.Advance(TimeSpan.FromSeconds(1));
        var answered = 0;
        while (answered < 100)
        {
            await Eventually.TrueAsync(() => !answers.IsEmpty, "a call waits for its answer");
            Assert.True(answers.TryDequeue(out var answer));
            answer.SetResult();
            answered++;
        }

        await Eventually.TrueAsync(() => _calls.Count == 100 && schedule.InFlight == 0, "every lock was called");
        Assert.Equal(4, most);
        Assert.Equal(100, _calls.Distinct().Count());
    }

    [Fact]
    public async Task AFailedCall_IsLogged_AndSentAgainAfterTheRetryDelay()
    {
        var logs = new FakeLogCollector();
        var failures = 1;
        using var schedule = new ExpirySchedule(
            _clock,
            id =>
            {
                _calls.Enqueue(id);
                return Interlocked.Decrement(ref failures) >= 0 ? Task.FromException(new LockStorageException("storage is down")) : Task.CompletedTask;
            },
            new FakeLogger<ExpirySchedule>(logs));
        var id = Lock("failing");
        schedule.Set(id, Now + 1_000);

        _clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => _calls.Count == 1 && schedule.InFlight == 0, "the lock was called and failed");
        Assert.Equal(Now + (long)ExpirySchedule.FirstRetryDelay.TotalMilliseconds, schedule.DueAt(id));
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 1009 && r.Message.Contains("failing", StringComparison.Ordinal));

        _clock.Advance(ExpirySchedule.FirstRetryDelay);
        await Eventually.TrueAsync(() => _calls.Count == 2 && schedule.InFlight == 0, "the lock was called again");
        Assert.Null(schedule.DueAt(id));
    }

    [Fact]
    public async Task AFailedCall_KeepsTheDueTimeTheLockSetMeanwhile()
    {
        ExpirySchedule? schedule = null;
        var id = Lock("rescheduled");
        using var created = schedule = Schedule(_ =>
        {
            schedule!.Set(id, Now + 30_000);
            return Task.FromException(new TimeoutException("the answer was lost"));
        });
        schedule.Set(id, Now + 1_000);

        _clock.Advance(TimeSpan.FromSeconds(1));

        await Eventually.TrueAsync(() => _calls.Count == 1 && schedule.InFlight == 0, "the lock was called");
        Assert.Equal(Now + 30_000, schedule.DueAt(id));
    }

    [Fact]
    public async Task AStoppedSchedule_CallsNobody_AndTakesNoNewDueTimes()
    {
        using var schedule = Schedule(_ => Task.CompletedTask);
        schedule.Set(Lock("before"), Now + 1_000);

        await schedule.StopAsync(CancellationToken.None);
        schedule.Set(Lock("after"), Now + 1_000);
        _clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(0, schedule.Count);
        Assert.Empty(_calls);
    }

    [Fact]
    public async Task Stopping_WaitsForTheCallsInFlight()
    {
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var schedule = Schedule(_ => answer.Task);
        schedule.Set(Lock("slow"), Now);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => schedule.InFlight == 1, "the call is in flight");

        var stopping = schedule.StopAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted);
        answer.SetResult();

        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, schedule.InFlight);
    }

    [Fact]
    public async Task Stopping_DoesNotWaitForeverForACallThatIsNeverAnswered()
    {
        var never = new TaskCompletionSource();
        using var schedule = Schedule(_ => never.Task);
        schedule.Set(Lock("stuck"), Now);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => schedule.InFlight == 1, "the call is in flight");

        // The silo's own stop deadline is far away; the schedule gives up on its own bound.
        await schedule.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, schedule.InFlight);
    }

    private static GrainId Lock(string key) => GrainId.Create("orleanslocks.lock", $"schedule:{key}");

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private ExpirySchedule Schedule(Func<GrainId, Task> answer, int maxConcurrentCalls = ExpirySchedule.DefaultMaxConcurrentCalls) =>
        new(_clock, id =>
        {
            _calls.Enqueue(id);
            return answer(id);
        }, NullLogger<ExpirySchedule>.Instance, maxConcurrentCalls);
}
