using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLocks.Client.Diagnostics;
using OrleansLocks.Diagnostics;

namespace OrleansLocks.Client;

/// <summary>
/// The <see cref="ILockProvider"/> over lock grains: checks the input, applies deadlines and composes
/// multi-lock acquires; <see cref="LockAcquirer"/> talks to each lock and <see cref="HeldLocks"/>
/// remembers what the host's stop must end.
/// </summary>
internal sealed class LockProvider : ILockProvider
{
    /// <summary>The rule every waiting form's timeout is checked against (see <see cref="ValidateTimeout"/>).</summary>
    internal const string TimeoutRule =
        "The timeout must be zero or more and at most 49 days 17:02:47.294 (uint.MaxValue - 1 ms, the longest a .NET timer waits); null or Timeout.InfiniteTimeSpan waits for ever, zero tries once.";

    /// <summary>
    /// How long a wait that gave up waits for the lock to take it out of line (or to release what it
    /// was just granted) before throwing. The caller's deadline matters more than a tidy exit: when
    /// the lock is unreachable, leaving carries on in the background, and the lock drops a waiter
    /// that stopped calling within its waiter timeout anyway. Real time: it bounds a network wait.
    /// </summary>
    internal static readonly TimeSpan LeaveBudget = TimeSpan.FromSeconds(2);

    // The longest finite delay a timer (and so a CancellationTokenSource deadline) takes.
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly TimeProvider _time;
    private readonly HeldLocks _held;
    private readonly LockAcquirer _acquirer;
    private readonly LockClientInstruments _instruments;

    public LockProvider(
        IGrainFactory grains,
        TimeProvider time,
        IOptions<LockClientOptions> options,
        IOptions<LockLeaseOptions> lease,
        HeldLocks held,
        LockClientInstruments instruments,
        ILogger<LockProvider> logger)
    {
        _time = time;
        _held = held;
        _instruments = instruments;
        var retry = new TransientFaultPolicy(options.Value, logger, instruments);
        _acquirer = new LockAcquirer(grains, time, options.Value, lease.Value, retry, held, instruments, logger);
    }

    public ValueTask<LockHandle?> TryAcquireAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Plain(name, key), cancellationToken);

    public ValueTask<LockHandle> AcquireAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Plain(name, key), timeout, cancellationToken);

    public ValueTask<LockHandle?> TryAcquireReadAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Read(name, key), cancellationToken);

    public ValueTask<LockHandle?> TryAcquireWriteAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Write(name, key), cancellationToken);

    public ValueTask<LockHandle> AcquireReadAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Read(name, key), timeout, cancellationToken);

    public ValueTask<LockHandle> AcquireWriteAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Write(name, key), timeout, cancellationToken);

    public ValueTask<LockHandle?> TryAcquireUpgradeableReadAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.UpgradeableRead(name, key), cancellationToken);

    public ValueTask<LockHandle> AcquireUpgradeableReadAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.UpgradeableRead(name, key), timeout, cancellationToken);

    public ValueTask<LockHandle?> TryAcquireSemaphoreAsync(string name, string key, int maxCount, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Semaphore(name, key, maxCount), cancellationToken);

    public ValueTask<LockHandle> AcquireSemaphoreAsync(string name, string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Semaphore(name, key, maxCount), timeout, cancellationToken);

    public ValueTask<MultiLockHandle?> TryAcquireAllAsync(IEnumerable<LockRequest> locks, CancellationToken cancellationToken = default) =>
        TryAllMeasuredAsync(LockRequest.InCanonicalOrder(locks), cancellationToken);

    public ValueTask<MultiLockHandle> AcquireAllAsync(IEnumerable<LockRequest> locks, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        // Checked here, not in the async part: bad input throws at the call, before any task exists.
        var ordered = LockRequest.InCanonicalOrder(locks);
        var wait = ValidateTimeout(timeout);
        return AcquireAllMeasuredAsync(ordered, wait, cancellationToken);
    }

    private async ValueTask<MultiLockHandle?> TryAllMeasuredAsync(List<LockRequest> ordered, CancellationToken cancellationToken)
    {
        var measurement = StartMulti(ordered);
        try
        {
            var acquired = await TryAllAsync(ordered, cancellationToken).ConfigureAwait(false);
            measurement?.End(acquired?.Parts[0].FencingToken);
            return acquired;
        }
        catch (Exception ex) when (measurement is { } m)
        {
            m.Fail(ex);
            throw;
        }
    }

    private async ValueTask<MultiLockHandle> AcquireAllMeasuredAsync(List<LockRequest> ordered, TimeSpan wait, CancellationToken cancellationToken)
    {
        var measurement = StartMulti(ordered);
        try
        {
            var acquired = await AcquireAllCoreAsync(ordered, wait, cancellationToken).ConfigureAwait(false);
            measurement?.End(acquired.Parts[0].FencingToken);
            return acquired;
        }
        catch (Exception ex) when (measurement is { } m)
        {
            m.Fail(ex);
            throw;
        }
    }

    /// <summary>
    /// Checks a waiting form's timeout: <see langword="null"/> and <see cref="Timeout.InfiniteTimeSpan"/>
    /// mean for ever, zero means try once; below zero or beyond what a timer can wait is refused
    /// (<see cref="TimeoutRule"/>). The one check of this rule for every provider and handle method.
    /// </summary>
    /// <param name="timeout">The caller's timeout.</param>
    /// <param name="paramName">The caller's parameter name, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49.7 days.</exception>
    internal static TimeSpan ValidateTimeout(TimeSpan? timeout, string paramName = "timeout")
    {
        var wait = timeout ?? Timeout.InfiniteTimeSpan;
        if ((wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan) || wait > MaxTimeout)
        {
            throw new ArgumentOutOfRangeException(paramName, timeout, TimeoutRule);
        }

        return wait;
    }

    private ValueTask<LockHandle?> TryOneAsync(LockRequest request, CancellationToken cancellationToken)
    {
        request.EnsureWellFormed(nameof(request));

        // Nobody listens: no measuring, and no extra async step on the hot path.
        return _instruments.ObservesAcquires
            ? MeasuredAsync(request, AcquireMode.Try, ct => _acquirer.TryAsync(request, ct), cancellationToken)
            : new(_acquirer.TryAsync(request, cancellationToken));
    }

    private ValueTask<LockHandle> AcquireOneAsync(LockRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        // Checked here, not in the async part: bad input throws at the call, before any task exists.
        request.EnsureWellFormed(nameof(request));
        var wait = ValidateTimeout(timeout);
        return AcquireOneMeasuredAsync(request, wait, cancellationToken);
    }

    private async ValueTask<LockHandle> AcquireOneMeasuredAsync(LockRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!_instruments.ObservesAcquires)
        {
            return await AcquireOneCoreAsync(request, wait, cancellationToken).ConfigureAwait(false);
        }

        return (await MeasuredAsync(request, AcquireMode.Wait, async ct => (LockHandle?)await AcquireOneCoreAsync(request, wait, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<LockHandle> AcquireOneCoreAsync(LockRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        var id = request.Id;
        cancellationToken.ThrowIfCancellationRequested();
        if (wait == TimeSpan.Zero)
        {
            return await _acquirer.TryAsync(request, cancellationToken).ConfigureAwait(false)
                ?? throw new TimeoutException($"Could not acquire {request.Kind} lock '{id}': it is held.");
        }

        return await WithDeadlineAsync($"{request.Kind} lock '{id}'", wait, cancellationToken,
            (stop, onFault) => _held.TrackAsync(_acquirer.WaitAsync(request, stop, onFault))).ConfigureAwait(false);
    }

    private async Task<MultiLockHandle?> TryAllAsync(List<LockRequest> ordered, CancellationToken cancellationToken)
    {
        var held = new List<LockHandle>(ordered.Count);
        try
        {
            foreach (var request in ordered)
            {
                if (await _acquirer.TryAsync(request, cancellationToken).ConfigureAwait(false) is not { } handle)
                {
                    await ReleaseAllAsync(held).ConfigureAwait(false);
                    return null;
                }

                held.Add(handle);
            }
        }
        catch
        {
            await ReleaseAllAsync(held).ConfigureAwait(false);
            throw;
        }

        return new MultiLockHandle(held);
    }

    private async Task<MultiLockHandle> AcquireAllCoreAsync(List<LockRequest> ordered, TimeSpan wait, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (wait == TimeSpan.Zero)
        {
            return await TryAllAsync(ordered, cancellationToken).ConfigureAwait(false)
                ?? throw new TimeoutException($"Could not acquire all of {LockRequest.Describe(ordered)} at once: at least one is held.");
        }

        return await WithDeadlineAsync(LockRequest.Describe(ordered), wait, cancellationToken, async (stop, onFault) =>
        {
            var held = new List<LockHandle>(ordered.Count);
            try
            {
                // One canonical order for every caller: nobody can hold a later lock while waiting for an
                // earlier one, so no set of callers can wait on each other in a cycle.
                foreach (var request in ordered)
                {
                    held.Add(await _held.TrackAsync(_acquirer.WaitAsync(request, stop, onFault)).ConfigureAwait(false));
                }
            }
            catch
            {
                await ReleaseAllAsync(held).ConfigureAwait(false);
                throw;
            }

            return new MultiLockHandle(held);
        }).ConfigureAwait(false);
    }

    private async ValueTask<LockHandle?> MeasuredAsync(LockRequest request, string mode, Func<CancellationToken, Task<LockHandle?>> acquire, CancellationToken cancellationToken)
    {
        var measurement = _instruments.StartAcquire(request.Id.Name, TelemetryTags.KindValue(request.Kind), mode);
        try
        {
            var handle = await acquire(cancellationToken).ConfigureAwait(false);
            measurement.End(handle?.FencingToken);
            return handle;
        }
        catch (Exception ex)
        {
            measurement.Fail(ex);
            throw;
        }
    }

    /// <summary>
    /// Starts measuring a multi-lock acquire (null when nobody listens), tagged with the name and the
    /// kind its locks share, if they share one (names are few; the set of names is not).
    /// </summary>
    private AcquireMeasurement? StartMulti(List<LockRequest> ordered)
    {
        if (!_instruments.ObservesAcquires)
        {
            return null;
        }

        var name = ordered[0].Id.Name;
        var kind = ordered[0].Kind;
        var sameName = ordered.TrueForAll(r => r.Id.Name == name);
        var sameKind = ordered.TrueForAll(r => r.Kind == kind);
        return _instruments.StartAcquire(sameName ? name : null, sameKind ? TelemetryTags.KindValue(kind) : null, AcquireMode.Multi);
    }

    /// <summary>
    /// Runs a wait under one stop token that fires on the caller's cancellation, on the deadline
    /// (<paramref name="wait"/> on the client's clock) and when the host stops; turns the last two
    /// into the caller's exception, with the last transient fault the wait met as the inner exception
    /// of a timeout.
    /// </summary>
    private async Task<T> WithDeadlineAsync<T>(string what, TimeSpan wait, CancellationToken cancellationToken, Func<CancellationToken, Action<Exception>, Task<T>> body)
    {
        using var deadline = wait == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(wait, _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token, _held.Stopping);
        Exception? lastFault = null;
        try
        {
            return await body(stop.Token, ex => Volatile.Write(ref lastFault, ex)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && (deadline.IsCancellationRequested || _held.IsStopping))
        {
            throw _held.IsStopping && !deadline.IsCancellationRequested
                ? new OperationCanceledException($"The host is stopping: the wait for {what} was given up; nothing is held or queued.", _held.Stopping)
                : new TimeoutException($"Could not acquire {what} within {wait}; nothing is held or queued.", Volatile.Read(ref lastFault));
        }
    }

    private static async Task ReleaseAllAsync(List<LockHandle> held)
    {
        // In parallel and within the leave budget: an unreachable part's release goes on in the
        // background (or its lease expires), and must not hold the caller past its deadline.
        var releases = Task.WhenAll(held.Select(h => h.DisposeAsync().AsTask()));
        await Task.WhenAny(releases, Task.Delay(LeaveBudget, CancellationToken.None)).ConfigureAwait(false);
    }
}
