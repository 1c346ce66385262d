using Microsoft.Extensions.Logging;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The silo's one schedule of lock deadlines (a lease's expiry, a waiter's timeout, a grant's
/// confirmation deadline): each lock activation says when it is next due, and at that time the
/// schedule sends the lock an <see cref="ILockDue.OnDue"/> grain call, which does the work under the
/// lock's gate. One timer on the silo's <see cref="TimeProvider"/> serves every lock, instead of a
/// grain timer per activation, and a lock whose activation went away is reactivated by the call.
/// </summary>
/// <remarks>
/// <para>Entries are (grain id, due time), at most one per lock (<see cref="DueQueue{TKey}"/>); a lock
/// that moves its due time replaces its entry, and a lock with nothing due removes it. An entry is
/// taken when its call is sent; the lock then sets its next one. At most
/// <c>maxConcurrentCalls</c> calls are in flight: when many locks are due in one tick, the rest wait
/// their turn in the queue instead of flooding the thread pool and the activations' schedulers.</para>
/// <para>A call that fails (storage down, the lock's silo going away) is logged and sent again later,
/// after a delay that doubles per failure of that lock (1 s up to 1 min), unless the lock set a due
/// time of its own meanwhile. The PostgreSQL sweep stays the backstop for locks nobody watches.</para>
/// <para>Calls are sent from the thread pool with no caller's context, never from a grain's
/// scheduler. When the silo stops, the schedule stops first: no call is sent after that, and the
/// stop waits for the calls in flight.</para>
/// </remarks>
internal sealed class ExpirySchedule : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    /// <summary>The most <see cref="ILockDue.OnDue"/> calls in flight at once, by default.</summary>
    public const int DefaultMaxConcurrentCalls = 32;

    /// <summary>How long after a failed call the lock is called again, the first time.</summary>
    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before calling a lock whose calls keep failing.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    // The timer is never set further out than this, so any due time (however far) is a valid period.
    private static readonly long LongestTimerMs = (long)TimeSpan.FromHours(1).TotalMilliseconds;

    private readonly Lock _sync = new();
    private readonly DueQueue<GrainId> _queue = new();

    // Locks whose last call failed, with how many times in a row (only those: usually empty).
    private readonly Dictionary<GrainId, int> _failures = [];
    private readonly TimeProvider _time;
    private readonly Func<GrainId, Task> _callDue;
    private readonly ILogger _logger;
    private readonly int _maxConcurrentCalls;
    private readonly ITimer _timer;
    private long _timerAt = long.MaxValue;
    private int _inFlight;
    private int _pumpRequested;
    private bool _stopped;
    private TaskCompletionSource? _allAnswered;

    /// <summary>Creates the schedule; <paramref name="callDue"/> sends a lock its <see cref="ILockDue.OnDue"/> call.</summary>
    public ExpirySchedule(TimeProvider time, Func<GrainId, Task> callDue, ILogger<ExpirySchedule> logger, int maxConcurrentCalls = DefaultMaxConcurrentCalls)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentCalls, 1);
        _time = time;
        _callDue = callDue;
        _logger = logger;
        _maxConcurrentCalls = maxConcurrentCalls;

        // The schedule may be created inside a grain call: its timer must not carry that call's context.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static state => ((ExpirySchedule)state!).RequestPump(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>How many locks have a due time.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>How many calls are in flight.</summary>
    internal int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The due time of <paramref name="lockId"/>, if it has one (milliseconds of the silo clock).</summary>
    public long? DueAt(GrainId lockId)
    {
        lock (_sync)
        {
            return _queue.DueAt(lockId);
        }
    }

    /// <summary>Calls <paramref name="lockId"/> at <paramref name="dueAt"/> (milliseconds of the silo clock), replacing its earlier due time. Ignored once stopped.</summary>
    public void Set(GrainId lockId, long dueAt)
    {
        lock (_sync)
        {
            if (!_stopped && _queue.Set(lockId, dueAt))
            {
                Arm(dueAt);
            }
        }
    }

    /// <summary><paramref name="lockId"/> has nothing due: it is not called.</summary>
    public void Remove(GrainId lockId)
    {
        lock (_sync)
        {
            _queue.Remove(lockId);
            _failures.Remove(lockId);
        }
    }

    /// <summary>The longest the silo's stop waits for the calls in flight.</summary>
    internal static readonly TimeSpan StopWait = TimeSpan.FromSeconds(2);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ExpirySchedule), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);

    /// <summary>Stops the schedule: nothing is called from now on; waits for the calls in flight, at most <see cref="StopWait"/> (or until the silo's stop gives up).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task answered;
        lock (_sync)
        {
            _stopped = true;
            _queue.Clear();
            _failures.Clear();
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            answered = _inFlight == 0
                ? Task.CompletedTask
                : (_allAnswered ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        try
        {
            // Bounded: a due call is a grain call on a silo that is stopping, and may only be answered
            // by its response timeout. Nothing waits for its result.
            await answered.WaitAsync(StopWait, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // The silo stops regardless; the locks still due are freed by their next activation or the sweep.
        }
    }

    public void Dispose() => _timer.Dispose();

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // Holds _sync. Moves the timer earlier only; a timer that fires early finds nothing due and re-arms.
    private void Arm(long at)
    {
        if (at >= _timerAt)
        {
            return;
        }

        _timerAt = at;
        var dueIn = Math.Clamp(at - NowMs(), 0, LongestTimerMs);
        _timer.Change(TimeSpan.FromMilliseconds(dueIn), Timeout.InfiniteTimeSpan);
    }

    // The timer's callback and each finished call only queue a pump, so a pump never runs inside a
    // caller's lock, a fake clock's Advance, or a grain's turn.
    private void RequestPump()
    {
        if (Interlocked.Exchange(ref _pumpRequested, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static schedule => schedule.Pump(), this, preferLocal: false);
        }
    }

    private void Pump()
    {
        Volatile.Write(ref _pumpRequested, 0);
        List<GrainId>? due = null;
        lock (_sync)
        {
            if (_stopped)
            {
                return;
            }

            var now = NowMs();
            while (_inFlight < _maxConcurrentCalls && _queue.TryTakeDue(now, out var lockId))
            {
                (due ??= []).Add(lockId);
                _inFlight++;
            }

            // Full: the next finished call pumps again. Else wake up for the next entry.
            _timerAt = long.MaxValue;
            if (_inFlight < _maxConcurrentCalls && _queue.NextAt() is { } next)
            {
                Arm(next);
            }
        }

        foreach (var lockId in due ?? [])
        {
            _ = CallAsync(lockId);
        }
    }

    private async Task CallAsync(GrainId lockId)
    {
        try
        {
            await _callDue(lockId);
            lock (_sync)
            {
                _failures.Remove(lockId);
            }
        }
        catch (Exception ex)
        {
            CallAgainLater(lockId, ex);
        }
        finally
        {
            bool stopped;
            lock (_sync)
            {
                _inFlight--;
                stopped = _stopped;
                if (stopped && _inFlight == 0)
                {
                    _allAnswered?.TrySetResult();
                }
            }

            if (!stopped)
            {
                RequestPump();
            }
        }
    }

    private void CallAgainLater(GrainId lockId, Exception exception)
    {
        int failures;
        TimeSpan delay;
        lock (_sync)
        {
            if (_stopped)
            {
                return;
            }

            failures = _failures[lockId] = _failures.GetValueOrDefault(lockId) + 1;
            delay = TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, FirstRetryDelay.Ticks << Math.Min(failures - 1, 16)));
            var at = NowMs() + (long)delay.TotalMilliseconds;
            if (_queue.SetIfAbsent(lockId, at))
            {
                Arm(at);
            }
        }

        Log.DueCallFailed(_logger, exception, lockId.ToString(), failures, (long)delay.TotalMilliseconds);
    }
}
