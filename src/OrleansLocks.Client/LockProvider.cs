using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansLocks.Client;

/// <summary>The <see cref="ILockProvider"/> over lock grains; also remembers live handles so the host's stop releases them.</summary>
internal sealed class LockProvider : ILockProvider
{
    /// <summary>
    /// How long a wait that gave up waits for the lock to take it out of line (or to release what it
    /// was just granted) before throwing. The caller's deadline matters more than a tidy exit: when
    /// the lock is unreachable, leaving carries on in the background, and the lock drops a waiter
    /// that stopped calling within its waiter timeout anyway. Real time: it bounds a network wait.
    /// </summary>
    internal static readonly TimeSpan LeaveBudget = TimeSpan.FromSeconds(2);

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly LockClientOptions _options;
    private readonly LockLeaseOptions _lease;
    private readonly ILogger _logger;
    private readonly TransientFaultPolicy _retry;
    private readonly ConcurrentDictionary<LeaseKeeper, byte> _live = new();

    // Cancelled when the host stops: open waits leave their lines instead of lingering there.
    private readonly CancellationTokenSource _stopping = new();

    // Waits in progress, so that the host's stop lets each leave its line before the client goes.
    private readonly ConcurrentDictionary<Task, byte> _waits = new();

    public LockProvider(
        IGrainFactory grains,
        TimeProvider time,
        IOptions<LockClientOptions> options,
        IOptions<LockLeaseOptions> lease,
        ILogger<LockProvider> logger)
    {
        _grains = grains;
        _time = time;
        _options = options.Value;
        _lease = lease.Value;
        _logger = logger;
        _retry = new TransientFaultPolicy(_options, logger);
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

    public async ValueTask<MultiLockHandle?> TryAcquireAllAsync(IEnumerable<LockRequest> locks, CancellationToken cancellationToken = default)
    {
        var ordered = InCanonicalOrder(locks);
        var held = new List<LockHandle>(ordered.Count);
        try
        {
            foreach (var request in ordered)
            {
                if (await TryOneAsync(request, cancellationToken).ConfigureAwait(false) is not { } handle)
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

    public async ValueTask<MultiLockHandle> AcquireAllAsync(IEnumerable<LockRequest> locks, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var ordered = InCanonicalOrder(locks);
        var wait = ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        if (wait == TimeSpan.Zero)
        {
            return await TryAcquireAllAsync(ordered, cancellationToken).ConfigureAwait(false)
                ?? throw new TimeoutException($"Could not acquire all of {Describe(ordered)} at once: at least one is held.");
        }

        using var deadline = NewDeadline(wait);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token, _stopping.Token);
        var faults = new FaultNote();
        var held = new List<LockHandle>(ordered.Count);
        try
        {
            // One canonical order for every caller: nobody can hold a later lock while waiting for an
            // earlier one, so no set of callers can wait on each other in a cycle.
            foreach (var request in ordered)
            {
                held.Add(await TrackedWaitAsync(request, linked.Token, faults).ConfigureAwait(false));
            }
        }
        catch (Exception ex)
        {
            await ReleaseAllAsync(held).ConfigureAwait(false);
            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested && (deadline.IsCancellationRequested || _stopping.IsCancellationRequested))
            {
                throw GaveUp(Describe(ordered), wait, deadline, faults);
            }

            throw;
        }

        return new MultiLockHandle(held);
    }

    /// <summary>Ends every wait and releases every lock this process still holds (the host is stopping).</summary>
    public async Task ReleaseAllAsync(CancellationToken cancellationToken)
    {
        // First the waits: each leaves its line (or releases what it was just granted) while the
        // client can still call; a grant that completes meanwhile becomes a handle released below.
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_waits.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The waits' own callers see their outcome; here only their end matters, and even when
            // the host's stop token cuts this short, the held locks below must still be released.
        }

        var keepers = _live.Keys.ToArray();
        if (keepers.Length == 0)
        {
            return;
        }

        Log.ReleasingOnShutdown(_logger, keepers.Length);
        await Task.WhenAll(keepers.Select(async keeper =>
        {
            try
            {
                await keeper.ReleaseOnShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                keeper.ReportReleaseFailure(ex);
            }
        })).ConfigureAwait(false);
    }

    private async ValueTask<LockHandle?> TryOneAsync(LockRequest request, CancellationToken cancellationToken)
    {
        var id = Validate(request);
        cancellationToken.ThrowIfCancellationRequested();
        var grain = GrainOf(request);
        var sentAt = _time.GetTimestamp();
        var acquire = TryOnceAsync(request, grain);
        LockLease? lease;
        try
        {
            lease = await acquire.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = ReleaseIfGrantedAsync(id, grain, acquire);
            throw;
        }

        return lease is null ? null : NewHandle(request, grain, lease, sentAt);
    }

    private async ValueTask<LockHandle> AcquireOneAsync(LockRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var id = Validate(request);
        var wait = ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        if (wait == TimeSpan.Zero)
        {
            return await TryOneAsync(request, cancellationToken).ConfigureAwait(false)
                ?? throw new TimeoutException($"Could not acquire {request.Kind} lock '{id}': it is held.");
        }

        using var deadline = NewDeadline(wait);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token, _stopping.Token);
        var faults = new FaultNote();
        try
        {
            return await TrackedWaitAsync(request, linked.Token, faults).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && (deadline.IsCancellationRequested || _stopping.IsCancellationRequested))
        {
            throw GaveUp($"{request.Kind} lock '{id}'", wait, deadline, faults);
        }
    }

    private async Task<LockHandle> TrackedWaitAsync(LockRequest request, CancellationToken stop, FaultNote faults)
    {
        var wait = WaitForAsync(request, stop, faults);
        _waits.TryAdd(wait, 0);
        try
        {
            return await wait.ConfigureAwait(false);
        }
        finally
        {
            _waits.TryRemove(wait, out _);
        }
    }

    /// <summary>
    /// Waits in the lock's line until granted, or until <paramref name="stop"/> fires: then the
    /// waiter leaves the line (and any grant made to it is released) before this throws.
    /// </summary>
    private async Task<LockHandle> WaitForAsync(LockRequest request, CancellationToken stop, FaultNote faults)
    {
        var id = request.Id;
        var grain = GrainOf(request);
        var waiterId = Guid.NewGuid().ToString("N");
        long? firstSent = null;
        long? lastNotYet = null;
        try
        {
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                var sentAt = _time.GetTimestamp();

                // A grant delivered now was made after the last call that answered "not yet" was sent
                // (else that call would have carried it), so the local deadline counts from there:
                // never later than the truth. A call that failed proves nothing, so it moves nothing.
                var grantedNoEarlierThan = lastNotYet ?? firstSent ?? sentAt;
                firstSent ??= sentAt;
                LockLease? lease;
                bool confirmed;
                try
                {
                    lease = await grain.Wait(waiterId, request.Kind, _options.Owner).WaitAsync(stop).ConfigureAwait(false);
                    if (lease is null)
                    {
                        lastNotYet = sentAt;
                        continue;
                    }

                    confirmed = await grain.ConfirmGrant(lease.Token).WaitAsync(stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (TransientFaultPolicy.IsTransient(ex))
                {
                    // Giving up wins over a fault that arrives with it: the waiter leaves the line below.
                    stop.ThrowIfCancellationRequested();

                    // Keep the place in line: the next call with the same waiter id finds it (or the grant).
                    faults.Last = ex;
                    Log.WaitFault(_logger, ex, id);
                    await Task.Delay(_options.RetryDelay, stop).ConfigureAwait(false);
                    continue;
                }

                if (confirmed)
                {
                    return NewHandle(request, grain, lease, grantedNoEarlierThan);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            var leaving = StopWaitingAsync(id, grain, waiterId);
            _waits.TryAdd(leaving, 0);
            _ = leaving.ContinueWith(t => _waits.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await Task.WhenAny(leaving, Task.Delay(LeaveBudget, CancellationToken.None)).ConfigureAwait(false);
            throw;
        }
    }

    private LockHandle NewHandle(LockRequest request, ILeaseGrain grain, LockLease lease, long grantedNoEarlierThan)
    {
        var keeper = new LeaseKeeper(request.Id, request.Kind, grain, lease, grantedNoEarlierThan, _lease.RenewalInterval, _time, _retry, _logger, k => _live.TryRemove(k, out _));
        _live.TryAdd(keeper, 0);
        Log.Acquired(_logger, request.Id, lease.FencingToken);
        return new LockHandle(keeper);
    }

    private ILeaseGrain GrainOf(LockRequest request) => request.Kind == LockKind.Plain
        ? _grains.GetGrain<ILockGrain>(request.Id.ToGrainKey())
        : _grains.GetGrain<IReadWriteLockGrain>(request.Id.ToGrainKey());

    private Task<LockLease?> TryOnceAsync(LockRequest request, ILeaseGrain grain)
    {
        // One attempt id for all retries of this acquire: a retry after a lost answer gets the same lease.
        var attemptId = Guid.NewGuid().ToString("N");
        return _retry.RunAsync("acquire", request.Id, () => request.Kind switch
        {
            LockKind.Read => ((IReadWriteLockGrain)grain).TryAcquireRead(_options.Owner, attemptId),
            LockKind.Write => ((IReadWriteLockGrain)grain).TryAcquireWrite(_options.Owner, attemptId),
            _ => ((ILockGrain)grain).TryAcquire(_options.Owner, attemptId),
        }, CancellationToken.None);
    }

    private async Task ReleaseIfGrantedAsync(LockId id, ILeaseGrain grain, Task<LockLease?> acquire)
    {
        try
        {
            if (await acquire.ConfigureAwait(false) is { } lease)
            {
                Log.CancelledGrantReleased(_logger, id);
                await _retry.RunAsync("release", id, () => grain.Release(lease.Token), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Nothing more to do: an unreleased grant expires with its lease.
            Log.CancelledGrantNotReleased(_logger, ex, id);
        }
    }

    private async Task StopWaitingAsync(LockId id, ILeaseGrain grain, string waiterId)
    {
        try
        {
            await _retry.RunAsync("stop waiting", id, async () =>
            {
                await grain.StopWaiting(waiterId).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The lock drops the waiter by itself (it stops calling), and takes back an unconfirmed grant.
            Log.StopWaitingFailed(_logger, ex, id);
        }
    }

    private static async Task ReleaseAllAsync(List<LockHandle> held)
    {
        // In parallel and within the leave budget: an unreachable part's release goes on in the
        // background (or its lease expires), and must not hold the caller past its deadline.
        var releases = Task.WhenAll(held.Select(h => h.DisposeAsync().AsTask()));
        await Task.WhenAny(releases, Task.Delay(LeaveBudget, CancellationToken.None)).ConfigureAwait(false);
    }

    private static LockId Validate(LockRequest request)
    {
        if (request.Id.Name is null || !Enum.IsDefined(request.Kind))
        {
            throw new ArgumentException("A LockRequest must be made with LockRequest.Plain, Read, Write or For (this one is default or has an undefined kind).", nameof(request));
        }

        return request.Id;
    }

    private static List<LockRequest> InCanonicalOrder(IEnumerable<LockRequest> locks)
    {
        ArgumentNullException.ThrowIfNull(locks);
        var list = locks.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("A multi-lock acquire needs at least one lock.", nameof(locks));
        }

        foreach (var request in list)
        {
            Validate(request);
        }

        // Plain locks first, then read/write locks; within each, by name then key (ordinal).
        list.Sort(static (a, b) =>
        {
            var byType = (a.Kind == LockKind.Plain ? 0 : 1).CompareTo(b.Kind == LockKind.Plain ? 0 : 1);
            if (byType != 0)
            {
                return byType;
            }

            var byName = string.CompareOrdinal(a.Id.Name, b.Id.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Id.Key, b.Id.Key);
        });
        for (var i = 1; i < list.Count; i++)
        {
            var (a, b) = (list[i - 1], list[i]);
            if (a.Id == b.Id && (a.Kind == LockKind.Plain) == (b.Kind == LockKind.Plain))
            {
                throw new ArgumentException(
                    $"A multi-lock acquire names {(a.Kind == LockKind.Plain ? "plain" : "read/write")} lock '{a.Id}' twice ({a.Kind} and {b.Kind}); each lock may appear once, or the acquire would wait for itself.",
                    nameof(locks));
            }
        }

        return list;
    }

    private static TimeSpan ValidateTimeout(TimeSpan? timeout)
    {
        var wait = timeout ?? Timeout.InfiniteTimeSpan;
        if (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or more, or Timeout.InfiniteTimeSpan (or null) to wait for ever.");
        }

        return wait;
    }

    private Exception GaveUp(string what, TimeSpan wait, CancellationTokenSource deadline, FaultNote faults) =>
        _stopping.IsCancellationRequested && !deadline.IsCancellationRequested
            ? new OperationCanceledException($"The host is stopping: the wait for {what} was given up; nothing is held or queued.", _stopping.Token)
            : new TimeoutException($"Could not acquire {what} within {wait}; nothing is held or queued.", faults.Last);

    private CancellationTokenSource NewDeadline(TimeSpan wait) =>
        wait == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(wait, _time);

    private static string Describe(IEnumerable<LockRequest> locks) => string.Join(", ", locks.Select(l => $"{l.Kind} '{l.Id}'"));

    /// <summary>The last transient fault a wait met, reported as the inner exception of its timeout.</summary>
    private sealed class FaultNote
    {
        public Exception? Last { get; set; }
    }
}
