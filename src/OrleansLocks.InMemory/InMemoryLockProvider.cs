using OrleansLocks.Client;

namespace OrleansLocks.InMemory;

/// <summary>
/// An <see cref="ILockProvider"/> that keeps its locks in this process, for unit tests of code that
/// takes locks: no cluster, no storage, and the semantics of the real one. Locks exclude each other,
/// waits queue first come, first served, read/write locks prefer writers, multi-locks are all or
/// nothing in the canonical order, fencing tokens only grow, and handles renew their leases on the
/// given <see cref="TimeProvider"/>. A test makes a holder lose its lease with <see cref="Expire"/>
/// (at once) or <see cref="StopRenewing"/> (when the lease runs out, as for a crashed holder).
/// </summary>
/// <example>
/// <code>
/// var time = new FakeTimeProvider();
/// var locks = new InMemoryLockProvider(time);
/// await using var handle = await locks.TryAcquireAsync("purge_room", roomId);
/// locks.StopRenewing(LockRequest.Plain("purge_room", roomId)); // the holder "crashes"
/// time.Advance(TimeSpan.FromMinutes(2));                       // its lease runs out
/// Assert.True(handle!.HandleLostToken.IsCancellationRequested);
/// </code>
/// </example>
public sealed class InMemoryLockProvider : ILockProvider
{
    private readonly InMemoryLockTable _table;

    /// <summary>A provider on the system clock with the default options.</summary>
    public InMemoryLockProvider()
        : this(TimeProvider.System)
    {
    }

    /// <summary>A provider whose leases, renewals and timeouts run on <paramref name="timeProvider"/> (a <c>FakeTimeProvider</c> in tests).</summary>
    /// <param name="timeProvider">The clock of every lease and timeout.</param>
    /// <param name="options">The owner and lease figures; the defaults when omitted.</param>
    /// <exception cref="ArgumentException">An option breaks its rule.</exception>
    public InMemoryLockProvider(TimeProvider timeProvider, InMemoryLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        options ??= new InMemoryLockOptions();
        options.Validate(nameof(options));
        _table = new InMemoryLockTable(timeProvider, options);
        Owner = options.Owner;
    }

    private InMemoryLockProvider(InMemoryLockTable table, string owner)
    {
        _table = table;
        Owner = owner;
    }

    /// <summary>Who holds the locks this provider takes.</summary>
    public string Owner { get; }

    /// <summary>
    /// Another provider on the same locks for another owner: two of them stand for two processes of
    /// one cluster (what one holds, the other waits for).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="owner"/> breaks the owner rule.</exception>
    public InMemoryLockProvider ForOwner(string owner)
    {
        LockOwner.Validate(owner, nameof(owner));
        return new InMemoryLockProvider(_table, owner);
    }

    /// <summary>
    /// Makes the holders of a lock lose their leases now, as if they had stopped renewing a lease
    /// ago: their <see cref="LockHandle.HandleLostToken"/> is cancelled and the lock goes to the next
    /// waiter. <see cref="LockRequest.Plain"/> names a plain lock's holder; <see cref="LockRequest.Read"/>
    /// a read/write lock's readers, <see cref="LockRequest.Write"/> its writer; <see cref="LockRequest.Semaphore"/>
    /// a semaphore's holders (whatever count it gives).
    /// </summary>
    /// <returns>How many holders lost their lease (0 when nobody of that kind held it).</returns>
    public int Expire(LockRequest lockRequest)
    {
        lockRequest.EnsureWellFormed(nameof(lockRequest));
        return _table.Expire(lockRequest);
    }

    /// <summary>
    /// Stops the renewals of a lock's holders, as a crashed or frozen process would: each loses its
    /// lease when it runs out (<see cref="InMemoryLockOptions.LeaseTimeout"/> after its last renewal,
    /// on the provider's <see cref="TimeProvider"/>), unless it releases first. The holders are named
    /// as for <see cref="Expire"/>.
    /// </summary>
    /// <returns>How many holders stopped renewing.</returns>
    public int StopRenewing(LockRequest lockRequest)
    {
        lockRequest.EnsureWellFormed(nameof(lockRequest));
        return _table.StopRenewing(lockRequest);
    }

    /// <inheritdoc/>
    public ValueTask<LockHandle?> TryAcquireAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Plain(name, key), cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle> AcquireAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Plain(name, key), timeout, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle?> TryAcquireReadAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Read(name, key), cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle?> TryAcquireWriteAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Write(name, key), cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle> AcquireReadAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Read(name, key), timeout, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle> AcquireWriteAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Write(name, key), timeout, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle?> TryAcquireUpgradeableReadAsync(string name, string key, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.UpgradeableRead(name, key), cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle> AcquireUpgradeableReadAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.UpgradeableRead(name, key), timeout, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle?> TryAcquireSemaphoreAsync(string name, string key, int maxCount, CancellationToken cancellationToken = default) =>
        TryOneAsync(LockRequest.Semaphore(name, key, maxCount), cancellationToken);

    /// <inheritdoc/>
    public ValueTask<LockHandle> AcquireSemaphoreAsync(string name, string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireOneAsync(LockRequest.Semaphore(name, key, maxCount), timeout, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<MultiLockHandle?> TryAcquireAllAsync(IEnumerable<LockRequest> locks, CancellationToken cancellationToken = default) =>
        TryAllAsync(LockRequest.InCanonicalOrder(locks), cancellationToken);

    /// <inheritdoc/>
    public ValueTask<MultiLockHandle> AcquireAllAsync(IEnumerable<LockRequest> locks, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        // Checked here, not in the async part: bad input throws at the call, as the real provider's does.
        var ordered = LockRequest.InCanonicalOrder(locks);
        var wait = LockProvider.ValidateTimeout(timeout);
        return AcquireAllCoreAsync(ordered, wait, cancellationToken);
    }

    /// <inheritdoc/>
    public override string ToString() => $"InMemoryLockProvider {{ Owner = {Owner} }}";

    private async ValueTask<MultiLockHandle?> TryAllAsync(List<LockRequest> ordered, CancellationToken cancellationToken)
    {
        var held = new List<LockHandle>(ordered.Count);
        foreach (var request in ordered)
        {
            if (cancellationToken.IsCancellationRequested || _table.TryAcquire(request, Owner) is not { } lease)
            {
                await ReleaseAllAsync(held).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                return null;
            }

            held.Add(new LockHandle(lease));
        }

        return new MultiLockHandle(held);
    }

    private async ValueTask<MultiLockHandle> AcquireAllCoreAsync(List<LockRequest> ordered, TimeSpan wait, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (wait == TimeSpan.Zero)
        {
            return await TryAllAsync(ordered, cancellationToken).ConfigureAwait(false)
                ?? throw new TimeoutException($"Could not acquire all of {LockRequest.Describe(ordered)} at once: at least one is held.");
        }

        return await WithDeadlineAsync(LockRequest.Describe(ordered), wait, cancellationToken, async stop =>
        {
            var held = new List<LockHandle>(ordered.Count);
            try
            {
                foreach (var request in ordered)
                {
                    held.Add(await WaitAsync(request, stop).ConfigureAwait(false));
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

    private ValueTask<LockHandle?> TryOneAsync(LockRequest request, CancellationToken cancellationToken)
    {
        // A cancelled task, as the real provider's async method gives, not an exception at the call.
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LockHandle?>(cancellationToken);
        }

        return new(_table.TryAcquire(request, Owner) is { } lease ? new LockHandle(lease) : null);
    }

    private ValueTask<LockHandle> AcquireOneAsync(LockRequest request, TimeSpan? timeout, CancellationToken cancellationToken) =>
        AcquireOneCoreAsync(request, LockProvider.ValidateTimeout(timeout), cancellationToken);

    private async ValueTask<LockHandle> AcquireOneCoreAsync(LockRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (wait == TimeSpan.Zero)
        {
            return await TryOneAsync(request, cancellationToken).ConfigureAwait(false)
                ?? throw new TimeoutException($"Could not acquire {request.Kind} lock '{request.Id}': it is held.");
        }

        return await WithDeadlineAsync($"{request.Kind} lock '{request.Id}'", wait, cancellationToken, stop => WaitAsync(request, stop)).ConfigureAwait(false);
    }

    private async Task<LockHandle> WaitAsync(LockRequest request, CancellationToken stop)
    {
        var waiter = _table.Join(request, Owner);
        try
        {
            return new LockHandle(await waiter.Granted.Task.WaitAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Nothing stays held or queued for a caller that gave up, even a grant made meanwhile.
            _table.Leave(waiter);
            throw;
        }
    }

    private async Task<T> WithDeadlineAsync<T>(string what, TimeSpan wait, CancellationToken cancellationToken, Func<CancellationToken, Task<T>> body)
    {
        using var deadline = wait == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(wait, _table.Time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await body(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"Could not acquire {what} within {wait}; nothing is held or queued.");
        }
    }

    private static async Task ReleaseAllAsync(List<LockHandle> held)
    {
        foreach (var handle in held)
        {
            await handle.DisposeAsync().ConfigureAwait(false);
        }
    }
}
